--------------------------- MODULE MergeFailover ---------------------------
(***************************************************************************)
(* The merge and move operators across a maintainer failover: the part    *)
(* of opfsm's design that TiCDC issue 4763 was about.  One table covered   *)
(* by two source dispatchers "a" = key 0 and "b" = key 1, merged into      *)
(* "m" = keys {0, 1}; "a" may also be moved to another node.  A maintainer *)
(* merges or moves; it may crash at any step; the next one bootstraps      *)
(* from what every dispatcher manager reports, including its journals (the *)
(* merge journal, and move records journaled with their Remove), and       *)
(* recovers tasks and operators: merges by the commit point (domain.md     *)
(* 2.2, 3.4), moves in their exact phase with their destination (G4).      *)
(* Sources that end up Absent are added again, so a lost merge intent      *)
(* shows up as two active dispatchers over one key (S1), exactly the       *)
(* duplicate of issue 4763.                                                *)
(*                                                                         *)
(* Abstract state (a subset of docs' schema, same names):                  *)
(*   disp[n][d]   component state of dispatcher d on node n, or "none"     *)
(*   rem[n][d]    d's removing flag on n                                    *)
(*   mergeJ[n]    merged ids whose merge request n journaled               *)
(*   opJ[n]       destinations of the move Removes n journaled for "a"     *)
(*   owner[n]     the maintainer epoch n's dispatcher manager obeys        *)
(*   net          requests and bootstrap traffic in flight (a set: any     *)
(*                order, each delivered once, some lost)                    *)
(*   stq[n]       n's status reports in flight, in order (one stream)      *)
(*   epoch, phase the maintainer's epoch and phase ("run" or "boot")       *)
(*   resp[n]      {n's bootstrap response}, or {} before it arrived        *)
(*   sched[d], node[d]  task scheduling state and bound node ("" if none)  *)
(*   mop          the merge operator's state: "none" or "Running"          *)
(*   mv, mvDest   the move of "a": "none", "RemoveOrigin" or "AddDest", and *)
(*                its destination                                          *)
(*   lost         messages lost so far                                     *)
(***************************************************************************)
EXTENDS Naturals, FiniteSets, Sequences

CONSTANTS
    Nodes,      \* dispatcher manager nodes
    MaxEpoch,   \* maintainer epochs 1..MaxEpoch: MaxEpoch - 1 failovers
    MaxLoss,    \* messages the network may lose
    Bug         \* "none" or a seeded bug: "merge_journal_lost",
                \* "no_epoch_fence", "move_dest_before_origin_stopped",
                \* "move_advances_on_any_status", "recovery_ignores_commit_point",
                \* "bootstrap_no_fence"

Ids == {"a", "b", "m"}
Sources == {"a", "b"}
Keys == [a |-> {0}, b |-> {1}, m |-> {0, 1}]
States == {"none", "Initializing", "Working", "WaitingMerge", "Preparing", "MergeReady"}
Origin == CHOOSE n \in Nodes : TRUE    \* the node both sources start on

VARIABLES disp, rem, mergeJ, opJ, owner, net, stq, epoch, phase, resp, sched, node, mop, mv, mvDest, lost

vars == <<disp, rem, mergeJ, opJ, owner, net, stq, epoch, phase, resp, sched, node, mop, mv, mvDest, lost>>
dmVars == <<disp, rem, mergeJ, opJ, owner>>
mVars == <<epoch, phase, resp, sched, node, mop, mv, mvDest>>

Msgs ==
    [type : {"create", "remove", "merge", "bootstrap"}, to : Nodes, id : Ids, epoch : 1..MaxEpoch]
    \union [type : {"mremove"}, to : Nodes, id : {"a"}, epoch : 1..MaxEpoch, dest : Nodes]
    \union [type : {"response"}, from : Nodes, epoch : 1..MaxEpoch,
            disp : [Ids -> States], rem : [Ids -> BOOLEAN], mergeJ : SUBSET {"m"}, opJ : SUBSET Nodes]
Statuses == [id : Ids, st : {"Working", "Stopped"}, epoch : 1..MaxEpoch]

TypeOK ==
    /\ disp \in [Nodes -> [Ids -> States]]
    /\ rem \in [Nodes -> [Ids -> BOOLEAN]]
    /\ mergeJ \in [Nodes -> SUBSET {"m"}]
    /\ opJ \in [Nodes -> SUBSET Nodes]
    /\ mv \in {"none", "RemoveOrigin", "AddDest"} /\ mvDest \in Nodes
    /\ owner \in [Nodes -> 1..MaxEpoch]
    /\ net \subseteq Msgs
    /\ stq \in [Nodes -> Seq(Statuses)]
    /\ epoch \in 1..MaxEpoch /\ phase \in {"run", "boot"}
    /\ sched \in [Ids -> {"none", "Absent", "Scheduling", "Replicating"}]
    /\ node \in [Ids -> Nodes \union {""}]
    /\ mop \in {"none", "Running"}
    /\ lost \in 0..MaxLoss

Init ==
    /\ disp = [n \in Nodes |-> [d \in Ids |-> IF n = Origin /\ d \in Sources THEN "Working" ELSE "none"]]
    /\ rem = [n \in Nodes |-> [d \in Ids |-> FALSE]]
    /\ mergeJ = [n \in Nodes |-> {}]
    /\ opJ = [n \in Nodes |-> {}]
    /\ stq = [n \in Nodes |-> <<>>]
    /\ mv = "none" /\ mvDest = Origin
    /\ owner = [n \in Nodes |-> 1]
    /\ net = {}
    /\ epoch = 1 /\ phase = "run" /\ resp = [n \in Nodes |-> {}]
    /\ sched = [d \in Ids |-> IF d \in Sources THEN "Replicating" ELSE "none"]
    /\ node = [d \in Ids |-> IF d \in Sources THEN Origin ELSE ""]
    /\ mop = "none"
    /\ lost = 0

Send(m) == net' = net \union {m}
(* A status goes on n's stream to the maintainer n obeys: it carries that  *)
(* owner's epoch, and a newer maintainer ignores it (it was addressed to   *)
(* the old one).                                                           *)
Report(n, d, st) == stq' = [stq EXCEPT ![n] = Append(@, [id |-> d, st |-> st, epoch |-> owner[n]])]
Fenced(m, n) == Bug = "no_epoch_fence" \/ m.epoch = owner[n]

(***************************************************************************)
(* Maintainer actions                                                      *)
(***************************************************************************)

(* The scheduler merges the two sources (domain.md 1.5): occupy them, add  *)
(* the merged task Scheduling on their node, send the merge request.       *)
StartMerge ==
    /\ phase = "run" /\ mop = "none" /\ mv = "none"
    /\ \A s \in Sources : sched[s] = "Replicating" /\ node[s] = node["a"]
    /\ sched["m"] = "none"
    /\ mop' = "Running"
    /\ sched' = [sched EXCEPT !["a"] = "Scheduling", !["b"] = "Scheduling", !["m"] = "Scheduling"]
    /\ node' = [node EXCEPT !["m"] = node["a"]]
    /\ Send([type |-> "merge", to |-> node["a"], id |-> "m", epoch |-> epoch])
    /\ UNCHANGED <<dmVars, stq, epoch, phase, resp, mv, mvDest, lost>>

(* The running merge resends its request (resends are how lost messages   *)
(* are survived; the bound on net keeps the model finite).                 *)
ResendMerge ==
    /\ phase = "run" /\ mop = "Running"
    /\ LET m == [type |-> "merge", to |-> node["m"], id |-> "m", epoch |-> epoch] IN
       /\ m \notin net
       /\ Send(m)
    /\ UNCHANGED <<dmVars, stq, mVars, lost>>

(* The scheduler moves "a" to node n (domain.md 1.3): the origin is asked  *)
(* to remove it first, with the move's record (its destination) attached,  *)
(* and the destination is created only once the origin stopped.  The      *)
(* seeded bug creates the destination at once.                             *)
StartMove(n) ==
    /\ phase = "run" /\ mop = "none" /\ mv = "none"
    /\ sched["a"] = "Replicating" /\ node["a"] # n
    /\ mv' = "RemoveOrigin" /\ mvDest' = n
    /\ sched' = [sched EXCEPT !["a"] = "Scheduling"]
    /\ net' = net \union {[type |-> "mremove", to |-> node["a"], id |-> "a", epoch |-> epoch, dest |-> n]}
                   \union IF Bug = "move_dest_before_origin_stopped"
                         THEN {[type |-> "create", to |-> n, id |-> "a", epoch |-> epoch]} ELSE {}
    /\ UNCHANGED <<dmVars, stq, epoch, phase, resp, node, mop, lost>>

(* The move resends its Remove while the origin has not answered.  (Its   *)
(* Create is not resent in this model: requests to one node travel on one *)
(* ordered stream, so a resent Create can only arrive after the original   *)
(* and is dropped; net, being unordered, would let it arrive after a later *)
(* Remove and resurrect the dispatcher, which the real system cannot do.)  *)
ResendMove ==
    /\ phase = "run" /\ mv = "RemoveOrigin"
    /\ LET m == [type |-> "mremove", to |-> node["a"], id |-> "a", epoch |-> epoch, dest |-> mvDest]
       IN m \notin net /\ Send(m)
    /\ UNCHANGED <<dmVars, stq, mVars, lost>>

(* The basic scheduler adds an Absent task on some node.                   *)
ScheduleAbsent(d, n) ==
    /\ phase = "run" /\ sched[d] = "Absent"
    /\ sched' = [sched EXCEPT ![d] = "Scheduling"]
    /\ node' = [node EXCEPT ![d] = n]
    /\ Send([type |-> "create", to |-> n, id |-> d, epoch |-> epoch])
    /\ UNCHANGED <<dmVars, stq, epoch, phase, resp, mop, mv, mvDest, lost>>

(* The next status report from node n reaches the maintainer (Check, 3.6). *)
MaintainerStatus(n) ==
    /\ phase = "run" /\ stq[n] # <<>>
    /\ stq' = [stq EXCEPT ![n] = Tail(@)]
    /\ LET d == Head(stq[n]).id
           st == Head(stq[n]).st
       IN
       IF Head(stq[n]).epoch # epoch THEN
            UNCHANGED <<sched, node, mop, mv, net>>
       ELSE IF mv = "RemoveOrigin" /\ d = "a" /\ n = node["a"]
               /\ (st = "Stopped" \/ Bug = "move_advances_on_any_status") THEN
            \* Move: origin stopped; bind to the destination and create it there.
            /\ mv' = "AddDest"
            /\ node' = [node EXCEPT !["a"] = mvDest]
            /\ Send([type |-> "create", to |-> mvDest, id |-> "a", epoch |-> epoch])
            /\ UNCHANGED <<sched, mop>>
       ELSE IF mv = "AddDest" /\ d = "a" /\ n = mvDest /\ st = "Working" THEN
            \* Move DoneSuccess.
            /\ mv' = "none"
            /\ sched' = [sched EXCEPT !["a"] = "Replicating"]
            /\ UNCHANGED <<node, mop, net>>
       ELSE IF mop = "Running" /\ d = "m" /\ st = "Working" /\ node["m"] = n THEN
            \* Merge DoneOK: sources deleted, merged Replicating, occupies released.
            /\ mop' = "none"
            /\ sched' = [sched EXCEPT !["a"] = "none", !["b"] = "none", !["m"] = "Replicating"]
            /\ node' = [node EXCEPT !["a"] = "", !["b"] = ""]
            /\ UNCHANGED <<mv, net>>
       ELSE IF d = "a" /\ mv # "none" THEN
            UNCHANGED <<sched, node, mop, mv, net>>
       ELSE IF mop = "none" /\ sched[d] = "Scheduling" /\ node[d] = n /\ st = "Working" THEN
            \* An add finished.
            /\ sched' = [sched EXCEPT ![d] = "Replicating"]
            /\ UNCHANGED <<node, mop, mv, net>>
       ELSE IF sched[d] = "Replicating" /\ node[d] = n /\ st = "Stopped"
               /\ ~(mop = "Running" /\ d \in Sources) THEN
            \* Terminal without operator: deleted if a Replicating task covers it, else Absent.
            /\ IF \E o \in Ids : o # d /\ sched[o] = "Replicating" /\ Keys[d] \subseteq Keys[o]
               THEN sched' = [sched EXCEPT ![d] = "none"]
               ELSE sched' = [sched EXCEPT ![d] = "Absent"]
            /\ node' = [node EXCEPT ![d] = ""]
            /\ UNCHANGED <<mop, mv, net>>
       ELSE UNCHANGED <<sched, node, mop, mv, net>>
    /\ UNCHANGED <<dmVars, epoch, phase, resp, mvDest, lost>>

(* The maintainer dies; the next one takes epoch + 1 and asks every node.  *)
MaintainerCrash ==
    /\ epoch < MaxEpoch
    /\ epoch' = epoch + 1 /\ phase' = "boot" /\ resp' = [n \in Nodes |-> {}]
    /\ sched' = [d \in Ids |-> "none"] /\ node' = [d \in Ids |-> ""] /\ mop' = "none"
    /\ mv' = "none" /\ mvDest' = mvDest
    \* Statuses to the dead maintainer are gone with its streams.
    /\ stq' = [n \in Nodes |-> <<>>]
    /\ net' = net \union {[type |-> "bootstrap", to |-> n, id |-> "m", epoch |-> epoch + 1] : n \in Nodes}
    /\ UNCHANGED <<dmVars, lost>>

(* A bootstrap response of this epoch is kept.                             *)
MaintainerResponse(m) ==
    /\ m \in net /\ m.type = "response" /\ phase = "boot"
    /\ net' = net \ {m}
    /\ resp' = IF m.epoch = epoch THEN [resp EXCEPT ![m.from] = {m}] ELSE resp
    /\ UNCHANGED <<dmVars, stq, epoch, phase, sched, node, mop, mv, mvDest, lost>>

Committed(st) == st \in {"Initializing", "Working"}
Active(st) == st \in {"Initializing", "Working"}

(* Recovery (domain.md 3.4 and opfsm's rules): a journaled merge resumes   *)
(* if its target is committed or every source is WaitingMerge; a finished  *)
(* one keeps only the target; otherwise the target is dropped and active   *)
(* reports are adopted.  Without the journal (the 4763 bug) only active    *)
(* reports are adopted, so the in-flight merge is forgotten.               *)
Recover ==
    /\ phase = "boot" /\ \A n \in Nodes : resp[n] # {}
    /\ LET R(n) == CHOOSE x \in resp[n] : TRUE
           J == {n \in Nodes : "m" \in R(n).mergeJ}
           MJ == {n \in Nodes : R(n).opJ # {} /\ R(n).disp["a"] # "none"}
           Adopt(d) == {n \in Nodes : Active(R(n).disp[d]) /\ ~R(n).rem[d]}
       IN
       IF J # {} THEN
          LET n == CHOOSE x \in J : TRUE
              r == R(n)
          IN
          IF r.disp["m"] = "Working" \/ Bug = "recovery_ignores_commit_point" THEN
              /\ sched' = [d \in Ids |-> IF d = "m" THEN "Replicating" ELSE "none"]
              /\ node' = [d \in Ids |-> IF d = "m" THEN n ELSE ""]
              /\ mop' = "none" /\ net' = net
              /\ mv' = "none" /\ mvDest' = mvDest
          ELSE IF Committed(r.disp["m"]) /\ \E s \in Sources : r.disp[s] = "none" THEN
              \* Committed, a source already swept: the merged dispatcher survives alone.
              /\ sched' = [d \in Ids |-> IF d = "m" THEN "Replicating" ELSE "none"]
              /\ node' = [d \in Ids |-> IF d = "m" THEN n ELSE ""]
              /\ mop' = "none" /\ net' = net
              /\ mv' = "none" /\ mvDest' = mvDest
          ELSE IF Committed(r.disp["m"]) \/ (r.disp["m"] \in {"Preparing", "MergeReady"}
                                              /\ \A s \in Sources : r.disp[s] = "WaitingMerge") THEN
              /\ sched' = [d \in Ids |-> "Scheduling"]
              /\ node' = [d \in Ids |-> n]
              /\ mop' = "Running"
              /\ net' = net \union {[type |-> "merge", to |-> n, id |-> "m", epoch |-> epoch]}
              /\ mv' = "none" /\ mvDest' = mvDest
          ELSE
              \* Pre-commit without evidence: the target is removed (G6); the sources are
              \* adopted where they are reported (the manager restores them to Working),
              \* or left Absent.
              LET kept == {d \in Sources : Adopt(d) # {} \/ r.disp[d] = "WaitingMerge"}
                  at(d) == IF r.disp[d] = "WaitingMerge" THEN n ELSE CHOOSE x \in Adopt(d) : TRUE
              IN
              /\ sched' = [d \in Ids |-> IF d \in kept THEN "Replicating"
                                         ELSE IF d \in Sources THEN "Absent" ELSE "none"]
              /\ node' = [d \in Ids |-> IF d \in kept THEN at(d) ELSE ""]
              /\ mop' = "none"
              /\ net' = net \union {[type |-> "remove", to |-> n, id |-> "m", epoch |-> epoch]}
              /\ mv' = "none" /\ mvDest' = mvDest
       ELSE IF MJ # {} THEN
          \* A move journaled at its origin, which still hosts "a": the move resumes in
          \* RemoveOrigin towards the destination its record names (opfsm fixes G4).
          LET n == CHOOSE x \in MJ : TRUE
              dest == CHOOSE x \in R(n).opJ : TRUE
          IN
          /\ sched' = [d \in Ids |-> IF d = "a" THEN "Scheduling"
                                     ELSE IF d = "b" THEN (IF Adopt("b") # {} THEN "Replicating" ELSE "Absent")
                                     ELSE "none"]
          /\ node' = [d \in Ids |-> IF d = "a" THEN n
                                    ELSE IF d = "b" /\ Adopt("b") # {} THEN CHOOSE x \in Adopt("b") : TRUE
                                    ELSE ""]
          /\ mop' = "none"
          /\ mv' = "RemoveOrigin" /\ mvDest' = dest
          /\ net' = net \union {[type |-> "mremove", to |-> n, id |-> "a", epoch |-> epoch, dest |-> dest]}
       ELSE
          \* No journal: adopt what is active; a key nobody covers becomes Absent.
          LET adopted == {d \in Ids : Adopt(d) # {}}
              covered == UNION {Keys[d] : d \in adopted}
          IN
          /\ sched' = [d \in Ids |-> IF d \in adopted THEN "Replicating"
                                     ELSE IF d \in Sources /\ Keys[d] \cap covered = {} THEN "Absent"
                                     ELSE "none"]
          /\ node' = [d \in Ids |-> IF d \in adopted THEN CHOOSE x \in Adopt(d) : TRUE ELSE ""]
          /\ mop' = "none" /\ net' = net
          /\ mv' = "none" /\ mvDest' = mvDest
    /\ phase' = "run"
    /\ UNCHANGED <<dmVars, stq, epoch, resp, lost>>

(***************************************************************************)
(* Dispatcher manager actions                                              *)
(***************************************************************************)

(* A merge request is fenced, journaled, and the merge starts (2.2, 2.3). *)
DMMerge(m) ==
    /\ m \in net /\ m.type = "merge"
    /\ net' = net \ {m}
    /\ LET n == m.to IN
       IF Fenced(m, n) THEN
          /\ mergeJ' = [mergeJ EXCEPT ![n] = {"m"}]
          /\ IF disp[n]["m"] = "none" /\ \A s \in Sources : disp[n][s] = "Working" /\ ~rem[n][s]
             THEN /\ disp' = [disp EXCEPT ![n]["m"] = "Preparing", ![n]["a"] = "WaitingMerge", ![n]["b"] = "WaitingMerge"]
             ELSE UNCHANGED disp
       ELSE UNCHANGED <<mergeJ, disp>>
    /\ UNCHANGED <<rem, opJ, owner, stq, mVars, lost>>

(* The merged dispatcher finished preparing.                               *)
DMPrepared(n) ==
    /\ disp[n]["m"] = "Preparing" /\ ~rem[n]["m"]
    /\ disp' = [disp EXCEPT ![n]["m"] = "MergeReady"]
    /\ UNCHANGED <<rem, mergeJ, opJ, owner, net, stq, mVars, lost>>

(* The commit point: sources closed, merged Initializing (2.2 doMerge).    *)
DMCommit(n) ==
    /\ disp[n]["m"] = "MergeReady" /\ ~rem[n]["m"]
    /\ \A s \in Sources : disp[n][s] = "WaitingMerge" /\ ~rem[n][s]
    /\ disp' = [disp EXCEPT ![n]["m"] = "Initializing"]
    /\ rem' = [rem EXCEPT ![n]["a"] = TRUE, ![n]["b"] = TRUE]
    /\ UNCHANGED <<mergeJ, opJ, owner, net, stq, mVars, lost>>

(* A pre-commit merge aborts when a member is missing or being removed:    *)
(* sources back to Working, the target removed, the journal deleted.       *)
DMAbortMerge(n) ==
    /\ disp[n]["m"] \in {"Preparing", "MergeReady"}
    /\ rem[n]["m"] \/ \E s \in Sources : disp[n][s] # "WaitingMerge" \/ rem[n][s]
    /\ disp' = [disp EXCEPT ![n]["a"] = IF @ = "WaitingMerge" THEN "Working" ELSE @,
                            ![n]["b"] = IF @ = "WaitingMerge" THEN "Working" ELSE @]
    /\ rem' = [rem EXCEPT ![n]["m"] = TRUE]
    /\ mergeJ' = [mergeJ EXCEPT ![n] = {}]
    /\ UNCHANGED <<opJ, owner, net, stq, mVars, lost>>

(* A dispatcher receives its first event.                                  *)
DMWorking(n, d) ==
    /\ disp[n][d] = "Initializing" /\ ~rem[n][d]
    /\ disp' = [disp EXCEPT ![n][d] = "Working"]
    /\ Report(n, d, "Working")
    /\ UNCHANGED <<rem, mergeJ, opJ, owner, net, mVars, lost>>

(* The sweep deletes a closed dispatcher and reports Stopped; aborted      *)
(* merge targets are swept too (opfsm fixes G6).                           *)
DMSweep(n, d) ==
    /\ disp[n][d] # "none" /\ rem[n][d]
    /\ disp' = [disp EXCEPT ![n][d] = "none"]
    /\ rem' = [rem EXCEPT ![n][d] = FALSE]
    /\ Report(n, d, "Stopped")
    /\ opJ' = IF d = "a" THEN [opJ EXCEPT ![n] = {}] ELSE opJ
    /\ UNCHANGED <<mergeJ, owner, net, mVars, lost>>

(* A finished merge's journal entry is dropped (cleanupFinishedMergeOperators). *)
DMJournalCleanup(n) ==
    /\ mergeJ[n] # {}
    /\ \A s \in Sources : disp[n][s] = "none"
    /\ disp[n]["m"] \in {"none", "Working"}
    /\ mergeJ' = [mergeJ EXCEPT ![n] = {}]
    /\ UNCHANGED <<disp, rem, opJ, owner, net, stq, mVars, lost>>

(* Create and Remove requests, behind the epoch fence.                     *)
DMCreate(m) ==
    /\ m \in net /\ m.type = "create"
    /\ net' = net \ {m}
    /\ IF Fenced(m, m.to) /\ disp[m.to][m.id] = "none"
       THEN disp' = [disp EXCEPT ![m.to][m.id] = "Initializing"]
       ELSE UNCHANGED disp
    /\ UNCHANGED <<rem, mergeJ, opJ, owner, stq, mVars, lost>>

DMRemove(m) ==
    /\ m \in net /\ m.type = "remove"
    /\ net' = net \ {m}
    /\ IF Fenced(m, m.to) /\ disp[m.to][m.id] # "none"
       THEN rem' = [rem EXCEPT ![m.to][m.id] = TRUE]
       ELSE UNCHANGED rem
    /\ UNCHANGED <<disp, mergeJ, opJ, owner, stq, mVars, lost>>

(* A move's Remove: fenced; journaled with its record (the destination)   *)
(* only if the dispatcher exists; a missing one answers Stopped at once.   *)
DMRemoveMove(m) ==
    /\ m \in net /\ m.type = "mremove"
    /\ net' = net \ {m}
    /\ LET n == m.to IN
       IF ~Fenced(m, n) THEN UNCHANGED <<rem, opJ, stq>>
       ELSE IF disp[n]["a"] # "none" THEN
          /\ rem' = [rem EXCEPT ![n]["a"] = TRUE]
          /\ opJ' = [opJ EXCEPT ![n] = {m.dest}]
          /\ UNCHANGED stq
       ELSE
          /\ Report(n, "a", "Stopped")
          /\ UNCHANGED <<rem, opJ>>
    /\ UNCHANGED <<disp, mergeJ, owner, mVars, lost>>

(* Bootstrap: the owner switches to the new epoch before the snapshot;     *)
(* the response carries every dispatcher and the merge journal.            *)
DMBootstrap(m) ==
    /\ m \in net /\ m.type = "bootstrap"
    /\ LET n == m.to IN
       /\ owner' = [owner EXCEPT ![n] = IF m.epoch > @ \/ Bug = "bootstrap_no_fence" THEN m.epoch ELSE @]
       /\ net' = (net \ {m}) \union
            IF m.epoch >= owner[n] \/ Bug = "bootstrap_no_fence"
            THEN {[type |-> "response", from |-> n, epoch |-> m.epoch, disp |-> disp[n], rem |-> rem[n],
                   mergeJ |-> IF Bug = "merge_journal_lost" THEN {} ELSE mergeJ[n], opJ |-> opJ[n]]}
            ELSE {}
    /\ UNCHANGED <<disp, rem, mergeJ, opJ, stq, mVars, lost>>

(* The network loses a message (bounded).                                  *)
Lose(m) ==
    /\ m \in net /\ lost < MaxLoss /\ m.type \in {"merge", "create", "remove", "mremove"}
    /\ net' = net \ {m}
    /\ lost' = lost + 1
    /\ UNCHANGED <<dmVars, stq, mVars>>

Next ==
    \/ StartMerge \/ ResendMerge \/ ResendMove \/ MaintainerCrash \/ Recover
    \/ \E n \in Nodes : StartMove(n) \/ MaintainerStatus(n)
    \/ \E d \in Ids, n \in Nodes : ScheduleAbsent(d, n)
    \/ \E m \in net : MaintainerResponse(m) \/ DMMerge(m) \/ DMCreate(m) \/ DMRemove(m)
                      \/ DMRemoveMove(m) \/ DMBootstrap(m) \/ Lose(m)
    \/ \E n \in Nodes : DMPrepared(n) \/ DMCommit(n) \/ DMAbortMerge(n) \/ DMJournalCleanup(n)
    \/ \E n \in Nodes, d \in Ids : DMWorking(n, d) \/ DMSweep(n, d)

Spec == Init /\ [][Next]_vars

(***************************************************************************)
(* Properties                                                              *)
(***************************************************************************)

ActiveAt(n, d) == Active(disp[n][d]) /\ ~rem[n][d]

(* S1: no key is served by two active dispatchers at once.                 *)
NoDuplicateActiveDispatcher ==
    \A n1, n2 \in Nodes, d1, d2 \in Ids :
        (<<n1, d1>> # <<n2, d2>> /\ ActiveAt(n1, d1) /\ ActiveAt(n2, d2)) => Keys[d1] \cap Keys[d2] = {}

(* S9: a move creates its destination only after the origin stopped.      *)
MoveOrder ==
    mv = "AddDest" => \A n \in Nodes : n # mvDest => ~ActiveAt(n, "a")

(* S10: the maintainer drops the sources only once the target committed.   *)
MergeCommitRespected ==
    (sched["m"] = "Replicating" /\ phase = "run") =>
        \E n \in Nodes : node["m"] = n /\ (Committed(disp[n]["m"]) \/ disp[n]["m"] = "none")

(* S8: a dispatcher manager's owner epoch never goes back, so a stale      *)
(* maintainer's bootstrap cannot take a node over again.                   *)
OwnerEpochNeverDecreases == [][\A n \in Nodes : owner'[n] >= owner[n]]_vars

(* Not a safety property: a reachability witness.  Checked as an invariant *)
(* it must be violated, which proves a merge can finish in this model      *)
(* (the clean config is not vacuously safe).                               *)
MergeNeverCompletes == ~(sched["m"] = "Replicating" /\ sched["a"] = "none" /\ sched["b"] = "none")

(* The same for the move: "a" replicating at the destination a move chose. *)
MoveNeverCompletes == ~(mv = "none" /\ mvDest # Origin /\ sched["a"] = "Replicating" /\ node["a"] = mvDest)

(* Bound for the model: at most three requests and two statuses per node  *)
(* in flight.                                                              *)
NetBound == Cardinality(net) <= 3 /\ \A n \in Nodes : Len(stq[n]) <= 2
=============================================================================
