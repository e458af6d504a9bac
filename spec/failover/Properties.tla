----------------------------- MODULE Properties -----------------------------
(***************************************************************************)
(* Safety invariants S1-S11 of domain.md section 5 as they apply to this    *)
(* model, each named after what it protects, and liveness L1-L3.  S12      *)
(* (checkpoints) is out of scope: the model has no timestamps.             *)
(***************************************************************************)
EXTENDS Schema

(* S1: no key is served by two active dispatchers at once.                 *)
NoDuplicateActiveDispatcher ==
    \A n1, n2 \in Nodes, d1, d2 \in Ids :
        (<<n1, d1>> # <<n2, d2>> /\ ActiveAt(n1, d1) /\ ActiveAt(n2, d2)) => ~Overlap(d1, d2)

(* S2: a merge holds an occupy on each of its sources (one operator per id *)
(* is the shape of ops itself).                                            *)
MergeOccupiesSources ==
    ops["m"].type = "merge" => \A s \in Sources : ops[s].type = "occupy" /\ ops[s].origin = ops["m"].origin

(* S3: every operator but a remove works on an existing task.              *)
OperatorHasTask == \A d \in Ids : ops[d].type \in {"add", "move", "split", "merge", "occupy"} => sched[d] # "none"

(* S4: no ghost Scheduling task: somebody is scheduling it.                *)
SchedulingIsOwned == \A d \in Ids : sched[d] = "Scheduling" => ops[d] # NoOp

(* S5: Absent tasks are unbound, Scheduling and Replicating tasks bound.   *)
NodeBinding == \A d \in Ids : (sched[d] \in {"none", "Absent"}) <=> node[d] = NoNode

(* S6 (safety half): once stable, the tasks of a live table partition its  *)
(* key range on live nodes.  The served half is in Converge (L2).          *)
Stable ==
    /\ phase = "run"
    /\ \A d \in Ids : ops[d] = NoOp /\ sched[d] \in {"none", "Replicating"}
    /\ \A n \in alive : mergeJ[n] = 0 /\ \A d \in Ids : opJ[n][d] = NoRec
    /\ \A n \in Nodes, e \in Epochs : \A i \in 1..Len(req[n][e]) : req[n][e][i].type = "bootstrap"
Tasks == {d \in Ids : sched[d] # "none"}
Partition == UNION {Keys[d] : d \in Tasks} = TableKeys /\ \A d1, d2 \in Tasks : d1 # d2 => ~Overlap(d1, d2)
DesiredCoverage == Stable => (IF TableLive THEN Partition /\ \A d \in Tasks : node[d] \in alive ELSE Tasks = {})

(* S7: a dropped table gets no task again, by any maintainer.              *)
DroppedStaysDropped == ~TableLive => Tasks = {}

(* S8: a node's owner epoch never goes back, and its journals only take    *)
(* entries from requests of its owner.                                     *)
OwnerEpochNeverDecreases == [][\A n \in Nodes : owner'[n] >= owner[n]]_vars
JournalOnlyAdmitted ==
    [][\A n \in Nodes :
        /\ \A d \in Ids : (opJ'[n][d] # opJ[n][d] /\ opJ'[n][d] # NoRec) => opJ'[n][d].epoch = owner'[n]
        /\ (mergeJ'[n] # mergeJ[n] /\ mergeJ'[n] # 0) => mergeJ'[n] = owner'[n]]_vars

(* S9: a move creates its destination only after the origin stopped.      *)
MoveOrder ==
    \A d \in Ids : (ops[d].type = "move" /\ ops[d].st = "AddDest") =>
        \A n \in Nodes \ {ops[d].dest} : ~ActiveAt(n, d)

(* S10: a merge target only replaces its sources once it committed.        *)
MergeCommitRespected ==
    (phase = "run" /\ sched["m"] = "Replicating" /\ node["m"] \in alive) => ~PreCommit(disp[node["m"]]["m"])

(* S11: a journaled Remove names a dispatcher the node has.                *)
RemoveJournalSound == \A n \in alive, d \in Ids : opJ[n][d] # NoRec => disp[n][d] # "none"

(* G4 (design.md 5: resume exactly): when recovery runs, a move or split   *)
(* journaled at a node that still reports its dispatcher, active nowhere   *)
(* else, resumes as that operator from that node (a move towards its own   *)
(* destination while that node lives).                                     *)
RecoveryResumesJournal ==
    [][(phase = "boot" /\ phase' = "run" /\ TableLive) =>
        \A n \in alive, d \in Ids :
            LET r == resp[n].opJ[d] IN
            (/\ r.op \in {"move", "split"} /\ resp[n].disp[d] # "none"
             /\ n = Min({x \in alive : resp[x].opJ[d] # NoRec /\ resp[x].disp[d] # "none"})
             /\ \A x \in alive \ {n} : ~(Active(resp[x].disp[d]) /\ ~resp[x].rem[d])
             /\ ~(d \in Sources /\ resp[n].mergeJ # 0))
            => /\ ops'[d].type = r.op /\ ops'[d].origin = n
               /\ (r.op = "move" /\ r.dest \in alive /\ r.dest # n) => ops'[d].dest = r.dest]_vars

(* Liveness, once faults stop (they are bounded) under weak fairness of    *)
(* every non-fault action.                                                 *)
(* L1: every operator finishes.                                            *)
OperatorsTerminate == \A d \in Ids : ops[d] # NoOp ~> ops[d] = NoOp
(* L2: the system converges: stable, every task Working on its live node,  *)
(* no dispatcher without its task (no orphans, dropped tables cleaned).    *)
Served ==
    /\ \A d \in Tasks : node[d] \in alive /\ disp[node[d]][d] = "Working" /\ ~rem[node[d]][d]
    /\ \A n \in alive, d \in Ids : disp[n][d] # "none" => (d \in Tasks /\ node[d] = n)
Converge == <>[](Stable /\ Served /\ DesiredCoverage)
(* L3: every merge journal entry is eventually resolved.                   *)
MergeResolves == \A n \in Nodes : mergeJ[n] # 0 ~> mergeJ[n] = 0

(* Reachability witnesses, not properties: each must be violated (TLC      *)
(* finds a behaviour that completes the operation), proving the clean      *)
(* configs are not vacuously safe.                                         *)
MergeNeverCompletes == ~(phase = "run" /\ sched["m"] = "Replicating" /\ sched["a"] = "none" /\ ops["m"] = NoOp /\ epoch > 1)
SplitNeverCompletes == ~(phase = "run" /\ sched["a"] = "Replicating" /\ sched["b"] = "Replicating" /\ epoch > 1)
MoveNeverCompletes == ~(phase = "run" /\ \E d \in Ids : sched[d] = "Replicating" /\ node[d] # 1 /\ ops[d] = NoOp /\ epoch > 1)
=============================================================================
