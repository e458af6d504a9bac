----------------------------- MODULE Snapshots -----------------------------
(***************************************************************************)
(* Worlds that start at a maintainer failover from a chosen snapshot of    *)
(* the nodes, for recovery rules that no run from Failover's Init needs.   *)
(* Runs of the Failover worlds never leave a journaled move or split      *)
(* beside an active copy of its id, nor a pre-commit merge without full    *)
(* evidence on a live table: probes found neither in any config of        *)
(* configs.tsv or deep.tsv (spec/README.md).  A real snapshot can hold     *)
(* both (docs/recovery.md, "Any snapshot": nodes answer one by one, run    *)
(* older code, cut journals short), and the Go recovery is tested on such  *)
(* snapshots; here the seeded bugs no_active_elsewhere and                 *)
(* merge_resume_without_evidence are caught, and the design is shown to    *)
(* handle the same snapshots.                                              *)
(*                                                                         *)
(* The world: the maintainer of epoch 1 has just died and the one of epoch *)
(* 2 has sent its bootstrap requests (as MaintainerCrash leaves it); every *)
(* node still obeys epoch 1 and holds the snapshot that the constant       *)
(* Layout names; from there the failover model runs as usual (Next, under  *)
(* the same bounds).                                                       *)
(*   "contested"          node 1 closes "m" under a journaled split while  *)
(*                        node 2 serves "m"; or node 1 closes "a" under a  *)
(*                        journaled move to node 2 and serves "b", while   *)
(*                        node 2 serves "a".                               *)
(*   "unwitnessed_merge"  node 1 holds a pre-commit merge ("m" Preparing   *)
(*                        or MergeReady, both sources WaitingMerge, the    *)
(*                        merge journaled by epoch 1) whose source "b" is  *)
(*                        closing under a journaled remove.                *)
(* The Go simulator builds no such layout, so the conformance suite does   *)
(* not compare these worlds; their clean configs are in spec/deep.tsv.     *)
(***************************************************************************)
EXTENDS Failover

ASSUME N >= 2 /\ MaxEpoch >= 2 /\ Layout \in {"contested", "unwitnessed_merge"}

(* One node's dispatcher-manager state: its dispatchers, removing flags,   *)
(* schedule journal and merge journal (the per-node parts of dmVars).      *)
NodeState(ds, rs, js, mj) == [disp |-> ds, rem |-> rs, opJ |-> js, mergeJ |-> mj]
(* No dispatcher, no removing flag, no journal entry: a node's empty parts. *)
NoDispatchers == [d \in Ids |-> "none"]
NotRemoving == [d \in Ids |-> FALSE]
EmptyJournal == [d \in Ids |-> NoRec]
EmptyNode == NodeState(NoDispatchers, NotRemoving, EmptyJournal, 0)

(* A Remove of operator type op (and move destination dest) that node     *)
(* journaled for epoch 1's maintainer.                                    *)
JournaledBy1(op, dest) == [op |-> op, epoch |-> 1, dest |-> dest]

(* A snapshot of every node: nodes 1 and 2 hold one and two, others none. *)
Snapshot(one, two) == [n \in Nodes |-> IF n = 1 THEN one ELSE IF n = 2 THEN two ELSE EmptyNode]

(* "contested": a journaled split of "m" at node 1, "m" active at node 2.  *)
ContestedSplit ==
    Snapshot(NodeState([NoDispatchers EXCEPT !["m"] = "Working"], [NotRemoving EXCEPT !["m"] = TRUE],
                       [EmptyJournal EXCEPT !["m"] = JournaledBy1("split", NoNode)], 0),
             NodeState([NoDispatchers EXCEPT !["m"] = "Working"], NotRemoving, EmptyJournal, 0))

(* "contested": a journaled move of "a" from node 1 to node 2, where "a"   *)
(* is active already; node 1 also serves "b".                             *)
ContestedMove ==
    Snapshot(NodeState([NoDispatchers EXCEPT !["a"] = "Working", !["b"] = "Working"], [NotRemoving EXCEPT !["a"] = TRUE],
                       [EmptyJournal EXCEPT !["a"] = JournaledBy1("move", 2)], 0),
             NodeState([NoDispatchers EXCEPT !["a"] = "Working"], NotRemoving, EmptyJournal, 0))

(* "unwitnessed_merge": node 1's merge with its target in state st (pre-   *)
(* commit), source "b" closing under a journaled remove.                  *)
UnwitnessedMerge(st) ==
    Snapshot(NodeState([NoDispatchers EXCEPT !["m"] = st, !["a"] = "WaitingMerge", !["b"] = "WaitingMerge"],
                       [NotRemoving EXCEPT !["b"] = TRUE],
                       [EmptyJournal EXCEPT !["b"] = JournaledBy1("remove", NoNode)], 1),
             EmptyNode)

(* The snapshots the world may start from.                                 *)
Snapshots ==
    CASE Layout = "contested" -> {ContestedSplit, ContestedMove}
      [] Layout = "unwitnessed_merge" -> {UnwitnessedMerge(st) : st \in {"Preparing", "MergeReady"}}

(* The nodes hold one of the snapshots, obey epoch 1 and have their        *)
(* bootstrap request of epoch 2 queued; the maintainer of epoch 2 boots    *)
(* with no task or operator; statuses addressed to epoch 1 are gone.       *)
SnapshotInit ==
    /\ alive = Nodes
    /\ \E s \in Snapshots :
          /\ disp = [n \in Nodes |-> s[n].disp]
          /\ rem = [n \in Nodes |-> s[n].rem]
          /\ opJ = [n \in Nodes |-> s[n].opJ]
          /\ mergeJ = [n \in Nodes |-> s[n].mergeJ]
    /\ owner = [n \in Nodes |-> 1]
    /\ req = [n \in Nodes |-> [e \in Epochs |-> IF e = 2 THEN <<BootstrapReq>> ELSE <<>>]]
    /\ stq = [n \in Nodes |-> <<>>]
    /\ epoch = 2 /\ phase = "boot" /\ resp = [n \in Nodes |-> NoResp]
    /\ sched = [d \in Ids |-> "none"] /\ node = [d \in Ids |-> NoNode] /\ ops = [d \in Ids |-> NoOp]
    /\ dropEpoch = 0 /\ budget = MaxOps
    /\ faults = [loss |-> 0, dup |-> 0, crash |-> 0, fail |-> 0]

(* The failover model from a snapshot, and with Failover's fairness.       *)
SnapshotSpec == SnapshotInit /\ [][Next]_vars
SnapshotFairSpec == SnapshotSpec /\ Fairness
=============================================================================
