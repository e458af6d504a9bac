---------------------------- MODULE RecoveryKeys ----------------------------
(***************************************************************************)
(* Recovery on a table of three keys, from every snapshot that the node    *)
(* states below allow, for comparison with package recovery (conformance.  *)
(* CompareRecovery, docs/conformance.md).                                  *)
(*                                                                         *)
(* Recovery.tla reads the key geometry only through Schema's definitions  *)
(* (Ids, Sources, Keys, TableKeys, IdRank, SpanRank).  The configs of this *)
(* module replace them with the three-key geometry below (CONSTANT Ids <- *)
(* Ids3, ...), so the rules are the ones every Failover world checks, met  *)
(* here with partial overlaps ("ab" against "bc"), separate holes (only   *)
(* "b" covered leaves {0} and {2}) and a merge of three sources.           *)
(*                                                                         *)
(* Each initial state is one snapshot: the nodes hold their node state and *)
(* have answered the bootstrap of epoch 2 (resp).  Its one successor is    *)
(* the state Recover makes of it: sched, node, ops and the first requests *)
(* on the epoch-2 streams (LiveView, or DroppedView if the table was      *)
(* dropped).                                                               *)
(* The rest of the failover model (its dispatcher managers, scheduler and  *)
(* operators) is written over the same geometry, but there is no          *)
(* continuation here: from such snapshots it needs strays in the model    *)
(* (docs/conformance.md, "After the recovery, on three keys").             *)
(***************************************************************************)
EXTENDS Failover

(***************************************************************************)
(* The three-key geometry.                                                 *)
(***************************************************************************)
Ids3 == {"m", "ab", "bc", "a", "b", "c"}
Sources3 == {"a", "b", "c"}
Keys3 == [m |-> {0, 1, 2}, ab |-> {0, 1}, bc |-> {1, 2}, a |-> {0}, b |-> {1}, c |-> {2}]
TableKeys3 == {0, 1, 2}
\* The order of a node's first requests: the whole span first, then by start key.
IdRank3 == [m |-> 0, ab |-> 1, a |-> 2, bc |-> 3, b |-> 4, c |-> 5]
\* By start key, then end key (the table's end last), as CompareSpans.
SpanRank3 == [a |-> 0, ab |-> 1, m |-> 2, b |-> 3, bc |-> 4, c |-> 5]

\* Epoch 1 died, epoch 2 recovers.
ASSUME MaxEpoch = 2

(***************************************************************************)
(* Node states: what one node holds when the maintainer of epoch 1 dies.  *)
(* Journal entries are epoch 1's.                                          *)
(***************************************************************************)
(* One node's state: dispatchers, closing flags, schedule journal, merge   *)
(* journal (the per-node parts of dmVars, as a bootstrap answer has them). *)
NodeState(ds, rs, js, mj) == [disp |-> ds, rem |-> rs, opJ |-> js, mergeJ |-> mj]
(* Dispatchers in state st for the ids in S, none for the others; closing *)
(* flags for the ids in S; journal entry j for the ids in S.               *)
States(S, st) == [d \in Ids |-> IF d \in S THEN st ELSE "none"]
Flags(S) == [d \in Ids |-> d \in S]
Journal(S, j) == [d \in Ids |-> IF d \in S THEN j ELSE NoRec]
(* A node that holds nothing.                                             *)
EmptyNode == NodeState(States({}, "none"), Flags({}), Journal({}, NoRec), 0)
(* The journal entry of a Remove of operator type op that epoch 1 sent.    *)
Rec1(op, dest) == [op |-> op, epoch |-> 1, dest |-> dest]
(* The node a move journaled at n was going to.                            *)
NextNode(n) == IF n = N THEN 1 ELSE n + 1
(* Ids that cover more than one key: the ones a split can cut.            *)
MultiKey == {d \in Ids : Cardinality(Keys[d]) > 1}

(* One dispatcher, active, not closing.                                    *)
OneActive == {NodeState(States({d}, st), Flags({}), Journal({}, NoRec), 0) :
                 d \in Ids, st \in {"Working", "Initializing"}}
(* Two Working dispatchers of disjoint spans.                              *)
TwoActive == {NodeState(States({p[1], p[2]}, "Working"), Flags({}), Journal({}, NoRec), 0) :
                 p \in {q \in Ids \X Ids : ~Overlap(q[1], q[2])}}
(* One closing dispatcher: under a journaled remove, move (to the next    *)
(* node) or split (of a span of several keys), or with no journal entry.  *)
Closing(n) ==
    {NodeState(States({d}, "Working"), Flags({d}), Journal({d}, j), 0) :
        d \in Ids, j \in {NoRec, Rec1("remove", NoNode), Rec1("move", NextNode(n))}}
    \union {NodeState(States({d}, "Working"), Flags({d}), Journal({d}, Rec1("split", NoNode)), 0) : d \in MultiKey}
(* A merge of Sources into "m" at some point (the merge journaled by epoch *)
(* 1 unless said):                                                         *)
(* pre-commit target with every source waiting (full evidence), with one  *)
(* source closing under a journaled remove, or without the merge journal; *)
(* committed target with every source closing, or with one swept; target *)
(* Working with its sources closing or gone; target failed and closing;   *)
(* target gone (failed and swept) with the sources still waiting.          *)
(* Every source WaitingMerge, nothing else; ds with the target in st.      *)
Waiting == [d \in Ids |-> IF d \in Sources THEN "WaitingMerge" ELSE "none"]
WithTarget(ds, st) == [ds EXCEPT !["m"] = st]
MergeStates ==
    {NodeState(WithTarget(Waiting, st), Flags({}), Journal({}, NoRec), mj) :
        st \in {"Preparing", "MergeReady"}, mj \in {0, 1}}
    \union {NodeState(WithTarget(Waiting, st), Flags({"b"}), Journal({"b"}, Rec1("remove", NoNode)), 1) :
               st \in {"Preparing", "MergeReady"}}
    \union {NodeState(WithTarget(States(Sources, "Working"), "Initializing"), Flags(Sources), Journal({}, NoRec), 1),
            NodeState(WithTarget(States({"a", "b"}, "Working"), "Initializing"), Flags({"a", "b"}), Journal({}, NoRec), 1),
            NodeState(WithTarget(States(Sources, "Working"), "Working"), Flags(Sources), Journal({}, NoRec), 1),
            NodeState(States({"m"}, "Working"), Flags({}), Journal({}, NoRec), 1),
            NodeState(WithTarget(Waiting, "Preparing"), Flags({"m"}), Journal({}, NoRec), 1),
            NodeState(Waiting, Flags({}), Journal({}, NoRec), 1)}
(* Every state node n may hold.                                            *)
NodeStates(n) == {EmptyNode} \union OneActive \union TwoActive \union Closing(n) \union MergeStates

(***************************************************************************)
(* The snapshots: a state for each node; with MaxCrash > 0 node N may be  *)
(* down (it holds nothing and answers nothing); the table lives, or was   *)
(* dropped by epoch 1.                                                     *)
(***************************************************************************)
(* The live nodes: all, or all but node N.                                *)
Alives == IF MaxCrash > 0 THEN {Nodes, Nodes \ {N}} ELSE {Nodes}
(* The bootstrap answer of a node in state s.                              *)
Answered(s) == [ok |-> TRUE, disp |-> s.disp, rem |-> s.rem, opJ |-> s.opJ, mergeJ |-> s.mergeJ]

(* Node n holds s[n] and has answered the bootstrap of epoch 2 with it;    *)
(* the maintainer of epoch 2 has every answer and is about to recover: the  *)
(* state Recover starts from.  Statuses to epoch 1 are gone.               *)
AnsweredFrom(s) ==
    /\ disp = [n \in Nodes |-> s[n].disp]
    /\ rem = [n \in Nodes |-> s[n].rem]
    /\ opJ = [n \in Nodes |-> s[n].opJ]
    /\ mergeJ = [n \in Nodes |-> s[n].mergeJ]
    /\ owner = [n \in Nodes |-> 2]
    /\ resp = [n \in Nodes |-> IF n \in alive THEN Answered(s[n]) ELSE NoResp]
    /\ req = [n \in Nodes |-> [e \in Epochs |-> <<>>]]
    /\ stq = [n \in Nodes |-> <<>>]
    /\ epoch = 2 /\ phase = "boot"
    /\ sched = [d \in Ids |-> "none"] /\ node = [d \in Ids |-> NoNode] /\ ops = [d \in Ids |-> NoOp]
    /\ budget = MaxOps
    /\ faults = [loss |-> 0, dup |-> 0, crash |-> 0, fail |-> 0]

(* Every snapshot: the live nodes, the table's fate, a state per live node *)
(* (a down node holds nothing), at most one merge journal.                 *)
KeysInit ==
    /\ alive \in Alives
    /\ dropEpoch \in {0, 1}
    /\ \E s \in [Nodes -> UNION {NodeStates(n) : n \in Nodes}] :
          /\ \A n \in Nodes : s[n] \in IF n \in alive THEN NodeStates(n) ELSE {EmptyNode}
          /\ AnsweredFrom(s)

(* The one step: Recovery.tla's Recover, unchanged.  Each snapshot has one *)
(* successor, the recovered state.                                         *)
KeysNext == Recover
=============================================================================
