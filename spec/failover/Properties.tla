----------------------------- MODULE Properties -----------------------------
(***************************************************************************)
(* Safety invariants S1-S11 of domain.md section 5 as they apply to this   *)
(* model, each named after what it protects, and liveness L1-L5.  S12      *)
(* (checkpoints) is out of scope: the model has no timestamps.             *)
(***************************************************************************)
EXTENDS Schema

(* S1: no key is served by two active dispatchers at once.                 *)
(* The <<node, id>> pairs that serve are gathered once per state, so TLC   *)
(* compares only those with each other, not all 36 pairs of pairs of a     *)
(* two-node world (NoOverlapEvenClosing likewise): Failover.cfg's check    *)
(* takes about 15% less CPU than with the four-way quantifier.             *)
NoDuplicateActiveDispatcher ==
    LET serving == {nd \in Nodes \X Ids : ActiveAt(nd[1], nd[2])}
    IN \A p, q \in serving : p # q => ~Overlap(p[2], q[2])

(* S1 with closing copies counted: no key is served by two dispatchers     *)
(* that are Initializing or Working, even if one of them is already        *)
(* closing.  Holds from Init: a closing copy is swept before its successor *)
(* is created (a move's destination after the origin stopped, a split's    *)
(* halves after the whole stopped, a merge's target only Active after both *)
(* sources closed at the commit point).  Not checked from Snapshots.tla's  *)
(* "contested" snapshots, which start with a journaled copy closing on one *)
(* node while another node serves the span: recovery adopts the serving    *)
(* copy and leaves the closing one to its sweep, so the two overlap until  *)
(* then.  A closing dispatcher was told to stop; what it still flushes     *)
(* before its sweep is what any replacement replays from the checkpoint    *)
(* anyway (delivery is at-least-once), so that overlap is not a duplicate  *)
(* writer in the sense of S1.                                              *)
NoOverlapEvenClosing ==
    LET open == {nd \in alive \X Ids : Active(disp[nd[1]][nd[2]])}
    IN \A p, q \in open : p # q => ~Overlap(p[2], q[2])

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

(* S10 as an action (domain.md: sources are deleted only after the target  *)
(* was observed Initializing or Working): a step that makes "m"'s task     *)
(* Replicating with no source task left (a merge replacing its sources, a  *)
(* move or add of "m" finishing, recovery adopting it) is taken on seeing  *)
(* "m" committed: the maintainer reads a Working status of "m", or         *)
(* recovers from a bootstrap answer that reports "m" Active.               *)
CommitSeen ==
    \/ /\ phase = "run"
       /\ \E n \in Nodes : \E i \in 1..Len(stq[n]) :
             stq[n][i].id = "m" /\ stq[n][i].st = "Working" /\ stq'[n] = RemoveAt(stq[n], i)
    \/ phase = "boot" /\ \E n \in alive : resp[n].ok /\ Active(resp[n].disp["m"])
MergeCommitObserved ==
    [][(/\ TableLive /\ sched["m"] # "Replicating" /\ sched'["m"] = "Replicating"
        /\ \A s \in Sources : sched'[s] = "none") => CommitSeen]_vars

(* S11: a journaled Remove names a dispatcher the node has.                *)
RemoveJournalSound == \A n \in alive, d \in Ids : opJ[n][d] # NoRec => disp[n][d] # "none"

(* S11, merge half, the other way round: a merge in progress is journaled. *)
(* A source waiting for the merge, or a pre-commit target not closing,     *)
(* means the node's merge journal holds the merge, so the merge check that *)
(* commits or aborts it runs (DMCommit, DMAbortMerge) and a bootstrap      *)
(* answer shows it to recovery.  TiCDC's nodes before the fix of issue    *)
(* 4763 kept no such journal.                                              *)
MergesJournaled ==
    \A n \in alive :
        ((\E s \in Sources : disp[n][s] = "WaitingMerge" /\ ~rem[n][s]) \/ (PreCommit(disp[n]["m"]) /\ ~rem[n]["m"]))
            => mergeJ[n] # 0

(* G4 (design.md 5: resume exactly): when recovery runs, a move or split   *)
(* journaled at a node that still reports its dispatcher resumes as that   *)
(* operator from that node (a move towards its own destination while that *)
(* node lives), unless something else may serve its keys: another report  *)
(* not closing, or a move or split journaled at a lower node.              *)
RecoveryResumesJournal ==
    [][(phase = "boot" /\ phase' = "run" /\ TableLive) =>
        \A n \in alive, d \in Ids :
            LET r == resp[n].opJ[d] IN
            (/\ r.op \in {"move", "split"} /\ resp[n].disp[d] # "none"
             /\ n = Min({x \in alive : resp[x].opJ[d] # NoRec /\ resp[x].disp[d] # "none"})
             /\ \A x \in alive, e \in Ids :
                   (x # n \/ e # d) /\ Overlap(e, d) => resp[x].disp[e] = "none" \/ resp[x].rem[e]
             /\ \A x \in alive, e \in Ids :
                   x < n /\ Overlap(e, d) /\ resp[x].disp[e] # "none" => resp[x].opJ[e].op \notin {"move", "split"}
             /\ ~(d \in Sources /\ resp[n].mergeJ # 0))
            => /\ ops'[d].type = r.op /\ ops'[d].origin = n
               /\ (r.op = "move" /\ r.dest \in alive /\ r.dest # n) => ops'[d].dest = r.dest]_vars

(* Liveness, once faults stop (they are bounded) under weak fairness of    *)
(* every non-fault action.                                                 *)
(* L1: every operator finishes.                                            *)
(* The per-element properties below are written [](\A x : P(x) => <>Q(x)), *)
(* which is \A x : P(x) ~> Q(x): [] distributes over a finite conjunction. *)
(* TLC splits the negation of the ~> form into one branch per x and        *)
(* evaluates every fairness condition once per branch on every transition; *)
(* the [] form is one branch (LivenessDrop.cfg: 11 branches become 4, and  *)
(* TLC's CPU time 47 s becomes 29 s, with the same verdicts).              *)
OperatorsTerminate == [](\A d \in Ids : ops[d] # NoOp => <>(ops[d] = NoOp))
(* L2: the system converges: stable, every task Working on its live node,  *)
(* no dispatcher without its task (no orphans, dropped tables cleaned).    *)
Served ==
    /\ \A d \in Tasks : node[d] \in alive /\ disp[node[d]][d] = "Working" /\ ~rem[node[d]][d]
    /\ \A n \in alive, d \in Ids : disp[n][d] # "none" => (d \in Tasks /\ node[d] = n)
Converge == <>[](Stable /\ Served /\ DesiredCoverage)
(* S6's served half as an invariant: once the system is quiet (stable, no  *)
(* status on its way, no dispatcher still initializing or closing), every  *)
(* task is Working on its live node and no dispatcher lacks its task.      *)
Quiet ==
    /\ Stable /\ \A n \in Nodes : stq[n] = <<>>
    /\ \A n \in alive, d \in Ids : disp[n][d] # "Initializing" /\ ~rem[n][d]
ServedWhenQuiet == Quiet => Served
(* L3: every merge journal entry is eventually resolved.                   *)
MergeResolves == [](\A n \in Nodes : mergeJ[n] # 0 => <>(mergeJ[n] = 0))
(* L4: a dispatcher a running maintainer has no task for on its node (an   *)
(* orphan) is eventually removed, adopted, or gone with its node.          *)
Owned(n, d) == d \in Tasks /\ node[d] = n
Orphan(n, d) == phase = "run" /\ n \in alive /\ disp[n][d] # "none" /\ ~Owned(n, d)
OrphansRemoved ==
    [](\A n \in Nodes, d \in Ids : Orphan(n, d) => <>(disp[n][d] = "none" \/ Owned(n, d) \/ n \notin alive))
(* L5: once the table is dropped, every live node eventually serves none  *)
(* of it.                                                                  *)
NothingServed == \A n \in alive, d \in Ids : disp[n][d] = "none"
DroppedCleaned == ~TableLive ~> NothingServed

(* Witnesses that a liveness property is not vacuous in a world: each     *)
(* names the situation the property is about and prints, once per TLC     *)
(* worker, the first time a state is in it.  Listed as an invariant (they *)
(* are always TRUE) beside the liveness properties, so the same run shows *)
(* that the world reaches what it checks (spec/spec_test.go asserts it).  *)
Witnesses ==
    /\ FirstTime(20, "OperatorsTerminate", \E d \in Ids : ops[d] # NoOp)
    /\ FirstTime(21, "Converge", phase = "run" /\ ~(Stable /\ Served))
    /\ FirstTime(22, "MergeResolves", \E n \in Nodes : mergeJ[n] # 0)
    /\ FirstTime(23, "OrphansRemoved", \E n \in Nodes, d \in Ids : Orphan(n, d))
    /\ FirstTime(24, "DroppedCleaned", ~TableLive /\ ~NothingServed)

(* Reachability witnesses, not properties: each must be violated (TLC      *)
(* finds a behaviour that completes the operation), proving the clean      *)
(* configs are not vacuously safe.                                         *)
MergeNeverCompletes == ~(phase = "run" /\ sched["m"] = "Replicating" /\ sched["a"] = "none" /\ ops["m"] = NoOp /\ epoch > 1)
SplitNeverCompletes == ~(phase = "run" /\ sched["a"] = "Replicating" /\ sched["b"] = "Replicating" /\ epoch > 1)
MoveNeverCompletes == ~(phase = "run" /\ \E d \in Ids : sched[d] = "Replicating" /\ node[d] # 1 /\ ops[d] = NoOp /\ epoch > 1)
=============================================================================
