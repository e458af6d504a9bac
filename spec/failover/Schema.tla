------------------------------- MODULE Schema -------------------------------
(***************************************************************************)
(* The abstract state of opfsm's failover model: constants, value sets and *)
(* the variables every other module reads.  docs/abstract-state.md is the  *)
(* same schema in prose; the Go simulator implements the same variables   *)
(* and actions one to one, and the conformance suite compares the two     *)
(* state by state, so names here are part of the API.                     *)
(*                                                                         *)
(* One table whose key range is {0, 1}.  Three dispatcher ids cover it:    *)
(* "a" = {0} and "b" = {1} (the halves) and "m" = {0, 1} (the whole).      *)
(* Splitting "m" yields "a" and "b"; merging "a" and "b" yields "m"; a     *)
(* hole found by recovery gets the id of the span it covers.  Reusing ids  *)
(* across incarnations keeps the model finite; statuses carry the epoch    *)
(* of the maintainer they were sent to, so an old incarnation's status is  *)
(* never mistaken for a new one's.                                         *)
(*                                                                         *)
(* Nodes are naturals 1..N (0 means "no node"), so every choice recovery   *)
(* makes ("the lowest node") is defined the same way in Go.                *)
(*                                                                         *)
(* Variables (the abstract state schema):                                  *)
(*   alive        nodes that are up                                        *)
(*   disp[n][d]   component state of dispatcher d on node n, or "none"     *)
(*   rem[n][d]    d's removing flag on n (a Remove was accepted)            *)
(*   opJ[n][d]    n's schedule journal: the record of the Remove it accepted *)
(*                for d (operator type, epoch, move destination), or NoRec *)
(*   mergeJ[n]    n's merge journal: epoch of the journaled merge of "m",   *)
(*                or 0                                                      *)
(*   owner[n]     the maintainer epoch n's dispatcher manager obeys        *)
(*   req[n][e]    requests from the maintainer of epoch e to node n, in     *)
(*                order (one stream per sender and receiver)               *)
(*   stq[n]       n's status reports to the maintainer, in order           *)
(*   epoch, phase the maintainer's epoch and phase ("boot" or "run")        *)
(*   resp[n]      n's bootstrap response, or NoResp                        *)
(*   sched[d], node[d]  the maintainer's task for d: "none", "Absent",      *)
(*                "Scheduling" or "Replicating", and its bound node        *)
(*   ops[d]       the maintainer's operator for d (a record), or NoOp      *)
(*   dropEpoch    0 while the table lives; else the epoch that dropped it  *)
(*   budget       scheduler operations (move, split, merge, drop) left     *)
(*   faults       faults injected so far: [loss, dup, crash, fail]         *)
(***************************************************************************)
EXTENDS Naturals, FiniteSets, Sequences, TLC

CONSTANTS
    N,          \* number of nodes: Nodes = 1..N
    MaxEpoch,   \* maintainer epochs 1..MaxEpoch: MaxEpoch - 1 maintainer failovers
    MaxLoss,    \* requests the network may lose
    MaxDup,     \* requests the network may deliver twice
    MaxCrash,   \* nodes that may crash (one always survives)
    MaxFail,    \* merged dispatchers that may fail before their merge commits
    MaxOps,     \* scheduler operations (move, split, merge, drop table) per behaviour
    OpKinds,    \* which of "move", "split", "merge", "drop" the scheduler may start
    Layout,     \* initial placement: "whole" ("m" on node 1) or "halves" ("a", "b" on node 1);
                \* Snapshots.tla's worlds name a snapshot instead ("contested", "unwitnessed_merge")
    MaxReq,     \* bound on requests in one stream (a state constraint)
    Bug         \* "none" or the seeded bug this run enables (one predicate each in Bugs.tla)

Nodes == 1..N
NoNode == 0
Epochs == 1..MaxEpoch
(* The key geometry.  Every id covers an interval of TableKeys, every      *)
(* interval is an id, and "m" is the whole table, the target of the one    *)
(* merge (from Sources).  Recovery.tla reads the geometry only through     *)
(* these definitions, so RecoveryKeys.tla checks it on three keys by       *)
(* overriding them in its config.                                          *)
Ids == {"m", "a", "b"}
Sources == {"a", "b"}
Keys == [m |-> {0, 1}, a |-> {0}, b |-> {1}]
TableKeys == {0, 1}
\* The order a node's first requests after a recovery go in (the whole span
\* first, then by start key).
IdRank == [m |-> 0, a |-> 1, b |-> 2]
\* The order adoption breaks ties in: by start key, then end key (package
\* operators' CompareSpans).
SpanRank == [a |-> 0, m |-> 1, b |-> 2]
(* The ids in IdRank order: the order every fold over the ids goes in (a   *)
(* node's first requests, DROP TABLE's removes, OnNodeRemove's operators). *)
IdOrder == [i \in 1..Cardinality(Ids) |-> CHOOSE d \in Ids : IdRank[d] = i - 1]
(* The merge's ids: its target "m" and its sources.                       *)
MergeMembers == {"m"} \union Sources
(* The spans a split of d yields: its single-key spans (on two keys, "a"   *)
(* and "b" from "m"; package operators' StartSplit takes any tiling, the   *)
(* model the finest).                                                      *)
SplitParts(d) == {x \in Ids : Cardinality(Keys[x]) = 1 /\ Keys[x] \subseteq Keys[d] /\ x # d}

DispatcherStates == {"none", "Initializing", "Working", "WaitingMerge", "Preparing", "MergeReady"}
TaskStates == {"none", "Absent", "Scheduling", "Replicating"}
OpTypes == {"add", "remove", "move", "split", "merge", "occupy"}
OpStates == {"Running", "RemoveOrigin", "AbortRemoveOrigin", "AddDest", "Holding"}

(* An operator as the maintainer holds it and as its requests carry it: the *)
(* type, the FSM state (names as in package operators), origin and dest.    *)
Op == [type : OpTypes, st : OpStates, origin : Nodes \union {NoNode}, dest : Nodes \union {NoNode}]
NoOp == [type |-> "", st |-> "", origin |-> NoNode, dest |-> NoNode]

(* A schedule-journal entry: the record a Remove request carried.           *)
JournalEntries == [op : {"remove", "move", "split"}, epoch : Epochs, dest : Nodes \union {NoNode}]
NoRec == [op |-> "", epoch |-> 0, dest |-> NoNode]

(* Requests.  create/remove carry the operator type and the move's dest    *)
(* (the part of the record recovery needs); merge is always "m" from "a"   *)
(* and "b"; bootstrap asks for a snapshot.                                 *)
Req == [type : {"create", "remove", "merge", "bootstrap"}, id : Ids,
        op : OpTypes \union {""}, dest : Nodes \union {NoNode}]
Status == [id : Ids, st : {"Working", "Stopped"}, epoch : Epochs]
Resp == [ok : BOOLEAN, disp : [Ids -> DispatcherStates], rem : [Ids -> BOOLEAN],
         opJ : [Ids -> JournalEntries \union {NoRec}], mergeJ : 0..MaxEpoch]
NoResp == [ok |-> FALSE, disp |-> [d \in Ids |-> "none"], rem |-> [d \in Ids |-> FALSE],
           opJ |-> [d \in Ids |-> NoRec], mergeJ |-> 0]

VARIABLES alive, disp, rem, opJ, mergeJ, owner, req, stq,
          epoch, phase, resp, sched, node, ops, dropEpoch, budget, faults

dmVars == <<disp, rem, opJ, mergeJ, owner>>
netVars == <<req, stq>>
maintainerVars == <<epoch, phase, resp, sched, node, ops>>
envVars == <<alive, dropEpoch, budget, faults>>
vars == <<alive, disp, rem, opJ, mergeJ, owner, req, stq,
          epoch, phase, resp, sched, node, ops, dropEpoch, budget, faults>>

TypeOK ==
    /\ alive \subseteq Nodes /\ alive # {}
    /\ disp \in [Nodes -> [Ids -> DispatcherStates]]
    /\ rem \in [Nodes -> [Ids -> BOOLEAN]]
    /\ opJ \in [Nodes -> [Ids -> JournalEntries \union {NoRec}]]
    /\ mergeJ \in [Nodes -> 0..MaxEpoch]
    /\ owner \in [Nodes -> Epochs]
    /\ req \in [Nodes -> [Epochs -> Seq(Req)]]
    /\ stq \in [Nodes -> Seq(Status)]
    /\ epoch \in Epochs /\ phase \in {"boot", "run"}
    /\ resp \in [Nodes -> Resp]
    /\ sched \in [Ids -> TaskStates] /\ node \in [Ids -> Nodes \union {NoNode}]
    /\ ops \in [Ids -> Op \union {NoOp}]
    /\ dropEpoch \in 0..MaxEpoch /\ budget \in 0..MaxOps
    /\ faults \in [loss : 0..MaxLoss, dup : 0..MaxDup, crash : 0..MaxCrash, fail : 0..MaxFail]

(* A dispatcher serves its span: created, not merging, not being removed.  *)
Active(st) == st \in {"Initializing", "Working"}
ActiveAt(n, d) == n \in alive /\ Active(disp[n][d]) /\ ~rem[n][d]
PreCommit(st) == st \in {"Preparing", "MergeReady"}
Overlap(d1, d2) == Keys[d1] \cap Keys[d2] # {}
Min(S) == CHOOSE x \in S : \A y \in S : x <= y
TableLive == dropEpoch = 0
(* Sequence s without its i-th element.                                    *)
RemoveAt(s, i) == [j \in 1..(Len(s) - 1) |-> IF j < i THEN s[j] ELSE s[j + 1]]

(* Witness printing for the always-true invariants Witnesses (Properties)  *)
(* and RecoveryBranches (Recovery): the first time a state is in situation *)
(* happens, print <<"witness", name>>, once per TLC worker (register i).   *)
ASSUME \A i \in 20..57 : TLCSet(i, 0)
FirstTime(i, name, happens) == TLCGet(i) = 1 \/ ~happens \/ (TLCSet(i, 1) /\ PrintT(<<"witness", name>>))
=============================================================================
