------------------------------ MODULE Recovery ------------------------------
(***************************************************************************)
(* Recovery: the new maintainer maps the live nodes' bootstrap responses   *)
(* and the table list to tasks and operators in their exact states, and    *)
(* the requests to send first (package recovery; docs/recovery.md).  The  *)
(* rules, in the order package recovery applies them:                      *)
(*  0. Dropped table (C6, G5): no task at all; every reported dispatcher   *)
(*     is removed, a closing one too: its journaled Remove is resumed with *)
(*     the new epoch (domain.md 7.6), so the remove finishes even if the   *)
(*     old request's Stopped was addressed to the dead maintainer.         *)
(*  1. Merge journals (3.4), node by node in node order, each where its   *)
(*     node reports "m": target Working, or committed with a source swept: *)
(*     "m" is the survivor; committed with every source, or pre-commit     *)
(*     with full evidence (every source WaitingMerge), no other report may *)
(*     serve its keys and no earlier journal took its ids: the merge       *)
(*     resumes with its occupies; full evidence but contested: the target  *)
(*     keeps its keys covered until removed; without evidence: the target  *)
(*     is removed (G6), its sources decided by adoption (their manager     *)
(*     restores them); a closing or gone target is its node's to sweep     *)
(*     (its manager aborts a merge whose target is missing).  Without the  *)
(*     journal (TiCDC 4763) none of this can happen.                       *)
(*  2. Schedule journal (3.3, G4): a journaled Remove whose dispatcher is  *)
(*     still reported resumes its operator exactly: a move in RemoveOrigin *)
(*     towards its own destination (AbortRemoveOrigin if that died), a     *)
(*     split, a remove (whose task covers its keys until it is done).  A   *)
(*     move or split whose keys another report, or an operator resumed     *)
(*     before, may serve only finishes its remove (G8).                    *)
(*  3. Adoption (3.2, G8): the remaining active reports become Replicating *)
(*     tasks, accepted greedily in a fixed order (Working first, then by   *)
(*     span, then node) so no two accepted spans overlap; an overlap loser *)
(*     keeps its keys covered under a remove until it has stopped.         *)
(*  4. Cleanup (3.5): every report no rule kept is removed: a remove       *)
(*     operator where the id is free, else a one-shot Remove.              *)
(*  5. Holes (3.2): every uncovered range gets an Absent task (its own id).*)
(* RecoveryKeys.tla compares these rules with package recovery on every    *)
(* snapshot of a three-key world.                                          *)
(***************************************************************************)
EXTENDS Operators

(* A report is a pair <<d, n>>: dispatcher id d as live node n's bootstrap  *)
(* answer shows it.  A recovered task is a triple <<d, n, task state>>.    *)

(* Node n's bootstrap answer.                                               *)
Answer(n) == resp[n]
(* Node n reports dispatcher d (in any state, closing or not).             *)
Reported(n, d) == Answer(n).disp[d] # "none"
(* Node n reports d serving its span: active and not being removed.        *)
ReportedActive(n, d) == Active(Answer(n).disp[d]) /\ ~Answer(n).rem[d]
(* Node n reports d not closing: it serves its keys, or may (a waiting     *)
(* source whose merge aborts, a merged dispatcher whose merge commits).    *)
MayServe(n, d) == Reported(n, d) /\ ~Answer(n).rem[d]
(* Every <<id, live node>> pair: the reports there could be.               *)
IdNodePairs == Ids \X alive
(* A report other than node n's own ids may serve keys of d.               *)
OtherMayServe(d, n, own) ==
    \E p \in IdNodePairs : MayServe(p[2], p[1]) /\ Overlap(p[1], d) /\ (p[2] # n \/ p[1] \notin own)

(***************************************************************************)
(* Rule 1: the merge journals, node by node in node order.                 *)
(***************************************************************************)
(* Node n reports source s waiting for the merge (and not being removed). *)
SourceWaits(n, s) == Answer(n).disp[s] = "WaitingMerge" /\ ~Answer(n).rem[s]
(* Full evidence of a pre-commit merge at n: the target is pre-commit and  *)
(* every source waits for it.                                              *)
PreCommitEvidence(n) == PreCommit(Answer(n).disp["m"]) /\ \A s \in Sources : SourceWaits(n, s)
(* What rule 1 has decided so far: tasks, an operator per id (NoOp for     *)
(* none), the reports it claimed, temporary coverage (Replicating tasks    *)
(* under a remove, which take their id but claim no keys against           *)
(* adoption), reports it gave a one-shot Remove, whether a merge resumed   *)
(* (then its target's keys are spoken for).                                *)
NoMergesYet == [tasks |-> {}, ops |-> [d \in Ids |-> NoOp], claims |-> {}, temp |-> {}, oneShots |-> {}, resumed |-> FALSE]
(* Id d already has a task (temporary or not) or an operator in acc.       *)
Taken(acc, d) == acc.ops[d] # NoOp \/ \E t \in acc.tasks \union acc.temp : t[1] = d
(* What node n's merge journal comes to, by the state of its target and    *)
(* sources there, whether another report (or a merge resumed before) may   *)
(* serve its keys, and what earlier nodes' journals decided (acc):         *)
(*   "stale"    no target there: its node aborts the merge;                *)
(*   "closing"  the target is closing already: its node sweeps it;         *)
(*   "done"     the target Working, or committed with a source swept: the  *)
(*              target is the survivor;                                    *)
(*   "resume"   committed with every source, or pre-commit with full       *)
(*              evidence, uncontested, its ids free: the merge resumes;    *)
(*   "cover"    full evidence but contested: the node may still commit,    *)
(*              so the target covers its span until it is removed;         *)
(*   "abort"    pre-commit without evidence: the target is removed (G6).   *)
(* BugRecoveryIgnoresCommitPoint makes every one with a target "done".     *)
MergeContested(n, acc) == OtherMayServe("m", n, MergeMembers) \/ acc.resumed
MergeRuleAt(n, acc) ==
    LET st == Answer(n).disp["m"]
        allSources == \A s \in Sources : Reported(n, s)
        idsFree == \A d \in MergeMembers : ~Taken(acc, d)
    IN IF ~Reported(n, "m") THEN "stale"
       ELSE IF BugRecoveryIgnoresCommitPoint THEN "done"
       ELSE IF Answer(n).rem["m"] THEN "closing"
       ELSE IF st = "Working" THEN "done"
       ELSE IF ((st = "Initializing" /\ allSources) \/ PreCommitEvidence(n)) /\ idsFree /\ ~MergeContested(n, acc)
            THEN "resume"
       ELSE IF st = "Initializing" THEN "done"
       ELSE IF BugMergeResumeWithoutEvidence THEN "resume"            \* seeded bug: no evidence needed
       ELSE IF PreCommitEvidence(n) THEN "cover"
       ELSE "abort"
(* acc after node n's merge journal.  A surviving target becomes a task    *)
(* only uncontested (else adoption decides it like any report), and its    *)
(* closing sources are claimed; a resumed merge's members are Scheduling   *)
(* under the merge and its occupies; a target to remove gets a remove      *)
(* (with temporary coverage for "cover") where its id is free, else a      *)
(* one-shot Remove.                                                        *)
MergeStep(n, acc) ==
    LET case == MergeRuleAt(n, acc)
        removeOrOneShot(a) ==
            IF Taken(a, "m") THEN [a EXCEPT !.oneShots = @ \union {<<"m", n>>}]
            ELSE [a EXCEPT !.ops["m"] = NewOp("remove", "Running", n, NoNode)]
        claimed == [acc EXCEPT !.claims = @ \union {<<"m", n>>}]
    IN CASE case = "closing" -> claimed
         [] case = "done" ->
              IF MergeContested(n, acc)
              THEN [acc EXCEPT !.claims = @ \union {<<s, n>> : s \in {x \in Sources : Reported(n, x)}}]
              ELSE [acc EXCEPT !.claims = @ \union {<<d, n>> : d \in {x \in MergeMembers : Reported(n, x)}},
                               !.tasks = IF \E t \in @ \union acc.temp : t[1] = "m" THEN @
                                         ELSE @ \union {<<"m", n, "Replicating">>}]
         [] case = "resume" ->
              [acc EXCEPT !.tasks = @ \union {<<d, n, "Scheduling">> : d \in MergeMembers},
                          !.ops = [d \in Ids |-> IF d = "m" THEN NewOp("merge", "Running", n, NoNode)
                                                 ELSE IF d \in Sources THEN NewOp("occupy", "Holding", n, NoNode)
                                                 ELSE @[d]],
                          !.claims = @ \union {<<d, n>> : d \in MergeMembers},
                          !.resumed = TRUE]
         [] case = "cover" ->
              IF Taken(acc, "m") THEN removeOrOneShot(claimed)
              ELSE [claimed EXCEPT !.temp = @ \union {<<"m", n, "Replicating">>},
                                   !.ops["m"] = NewOp("remove", "Running", n, NoNode)]
         [] case = "abort" -> removeOrOneShot(claimed)
         [] OTHER -> acc
(* The live nodes that journal a merge, and rule 1's decisions after the   *)
(* last of them, in node order.                                            *)
MergeNodes == {n \in alive : Answer(n).mergeJ # 0}
RECURSIVE MergeFold(_, _)
MergeFold(ns, acc) == IF ns = {} THEN acc ELSE MergeFold(ns \ {Min(ns)}, MergeStep(Min(ns), acc))
Merges == MergeFold(MergeNodes, NoMergesYet)
(* Rule 1's tasks, claims, operators and temporary coverage.              *)
MergeTasks == Merges.tasks
MergeClaims == Merges.claims
MergeOp(d) == Merges.ops[d]
MergeTempTasks == Merges.temp
(* The first node whose merge journal has its target, and what it comes to *)
(* ("none" if none): the case RecoveryBranches names.                      *)
MergeJournalNodes == {n \in MergeNodes : Reported(n, "m")}
MergeJournalNode == Min(MergeJournalNodes)
MergeCase == IF MergeJournalNodes = {} THEN "none" ELSE MergeRuleAt(MergeJournalNode, NoMergesYet)

(***************************************************************************)
(* Rule 2: the schedule journal.                                           *)
(***************************************************************************)
(* The live nodes whose schedule journal holds a Remove of d and that      *)
(* still report d; the one recovery reads (the lowest) and its entry.      *)
ScheduleJournalNodes(d) == {n \in alive : Answer(n).opJ[d] # NoRec /\ Reported(n, d)}
ScheduleJournalNode(d) == Min(ScheduleJournalNodes(d))
ScheduleJournalEntry(d) == Answer(ScheduleJournalNode(d)).opJ[d]
(* The ids whose journal rule 2 reads: journaled, and not already under an *)
(* operator of rule 1 (BugRecoveryIgnoresJournal: none).                   *)
JournaledIds ==
    IF BugRecoveryIgnoresJournal THEN {}
    ELSE {d \in Ids : ScheduleJournalNodes(d) # {} /\ MergeOp(d) = NoOp}
(* A journaled move or split: it would create dispatchers for d's keys.    *)
MovesOrSplits == {d \in JournaledIds : ScheduleJournalEntry(d).op \in {"move", "split"}}
(* A journaled move or split of d is contested: another report may serve   *)
(* its keys, or a merge, move or split resumed before it (rule 1, or a     *)
(* lower node's journal, then a lower rank) will create some.  Seeded bug  *)
(* no_active_elsewhere never finds it contested.                           *)
RECURSIVE Contested(_)
Contested(d) ==
    LET n == ScheduleJournalNode(d)
        before(e) == ScheduleJournalNode(e) < n \/ (ScheduleJournalNode(e) = n /\ IdRank[e] < IdRank[d])
    IN /\ ~BugNoActiveElsewhere
       /\ \/ OtherMayServe(d, n, {d})
          \/ Merges.resumed /\ Overlap("m", d)
          \/ \E e \in MovesOrSplits : e # d /\ before(e) /\ Overlap(e, d) /\ ~Contested(e)
(* The operator rule 2 restores for a journaled d, in the state the entry  *)
(* implies: a move towards its own destination while that lives, else     *)
(* aborting; a split; a remove.  A contested move or split only finishes  *)
(* its remove.                                                             *)
ResumedOp(d) ==
    LET entry == ScheduleJournalEntry(d)
        origin == ScheduleJournalNode(d)
    IN CASE entry.op = "move" /\ ~Contested(d) ->
              NewOp("move", IF entry.dest \in alive /\ entry.dest # origin THEN "RemoveOrigin" ELSE "AbortRemoveOrigin",
                   origin, entry.dest)
         [] entry.op = "split" /\ ~Contested(d) -> NewOp("split", "Running", origin, NoNode)
         [] OTHER -> NewOp("remove", "Running", origin, NoNode)
(* The tasks rule 2 creates on the journaling node, where rule 1 left the  *)
(* id free: Scheduling under a resumed move or split; Replicating under a  *)
(* standalone remove, which keeps the keys covered until it is done (then *)
(* the coverage is repaired, FinishRemove).                                *)
ResumedTasks ==
    {<<d, ScheduleJournalNode(d), IF ScheduleJournalEntry(d).op = "remove" THEN "Replicating" ELSE "Scheduling">> :
        d \in {x \in JournaledIds : ~(x \in MovesOrSplits /\ Contested(x)) /\ \A t \in MergeTasks : t[1] # x}}
(* The reports rule 2 accounts for.                                        *)
ResumedClaims == {<<d, ScheduleJournalNode(d)>> : d \in JournaledIds}

(***************************************************************************)
(* Rule 3: adoption, greedy in a fixed order.                              *)
(***************************************************************************)
(* A report's place in the order: Working first, then Initializing, then   *)
(* waiting, then pre-commit, then closing; then by span (SpanRank); then   *)
(* by node.                                                                *)
ReportRank(p) ==
    LET st == Answer(p[2]).disp[p[1]] IN
    IF Answer(p[2]).rem[p[1]] THEN 4 ELSE IF st = "Working" THEN 0 ELSE IF st = "Initializing" THEN 1
    ELSE IF st = "WaitingMerge" THEN 2 ELSE 3
AdoptionRank(p) == ReportRank(p) * 100 + SpanRank[p[1]] * 10 + p[2]
(* Report p may join the accepted pairs: its id is not taken (by them or a *)
(* temporary task) and its span overlaps none of theirs.                   *)
FitsAccepted(p, accepted) ==
    /\ \A x \in accepted : x[1] # p[1] /\ ~Overlap(x[1], p[1])
    /\ \A t \in MergeTempTasks : t[1] # p[1]
(* Accept the candidates one by one in AdoptionRank order, each if it      *)
(* fits the ones accepted so far.                                          *)
RECURSIVE AdoptGreedily(_, _)
AdoptGreedily(candidates, accepted) ==
    IF candidates = {} THEN accepted
    ELSE LET p == CHOOSE x \in candidates : \A y \in candidates : AdoptionRank(x) <= AdoptionRank(y)
         IN AdoptGreedily(candidates \ {p}, IF FitsAccepted(p, accepted) THEN accepted \union {p} ELSE accepted)
(* Rules 1 and 2 place their tasks first; adoption starts from them.       *)
JournalPlaced == {<<t[1], t[2]>> : t \in MergeTasks \union ResumedTasks}
(* The reports rules 1 and 2 did not claim: active ones, and waiting       *)
(* sources (their manager restores them to Working when it aborts the     *)
(* merge; a committed target that covers them wins).                       *)
Unclaimed == {p \in IdNodePairs : Reported(p[2], p[1])} \ (MergeClaims \union ResumedClaims)
AdoptionCandidates ==
    {p \in Unclaimed : ReportedActive(p[2], p[1]) \/ (p[1] \in Sources /\ SourceWaits(p[2], p[1]))}
Accepted == AdoptGreedily(AdoptionCandidates, JournalPlaced)
AdoptedTasks == {<<p[1], p[2], "Replicating">> : p \in Accepted \ JournalPlaced}
(* The candidates adoption refused, and those that overlap an accepted     *)
(* span (not only repeat an accepted id).                                  *)
Losers == AdoptionCandidates \ Accepted
OverlapsAccepted(p) == \E x \in Accepted : Overlap(x[1], p[1]) /\ x[1] # p[1]
(* An overlap loser may still serve its keys until its Remove lands: it    *)
(* keeps them covered by a Replicating task under a remove (temporary      *)
(* coverage), when its id is free (no task, no operator, no loser of that  *)
(* id before it).  Seeded bug... none: overlap_loser_uncovered is Go's.    *)
IdFree(d) == (\A x \in Accepted : x[1] # d) /\ (\A t \in MergeTempTasks : t[1] # d)
             /\ MergeOp(d) = NoOp /\ d \notin JournaledIds
TempCovered ==
    {p \in Losers : OverlapsAccepted(p) /\ IdFree(p[1])
                    /\ ~\E q \in Losers : q[1] = p[1] /\ AdoptionRank(q) < AdoptionRank(p)}
TempTasks == MergeTempTasks \union {<<p[1], p[2], "Replicating">> : p \in TempCovered}

(***************************************************************************)
(* Rule 5: holes.                                                          *)
(***************************************************************************)
(* The keys the given tasks cover.                                         *)
CoveredKeys(tasks) == UNION {Keys[t[1]] : t \in tasks}
(* An Absent task for each hole the given tasks leave (HolesOf).            *)
HoleTasks(tasks) == {<<d, NoNode, "Absent">> : d \in HolesOf(CoveredKeys(tasks))}
(* The holes' tasks (BugRecoveryNoHoles: none).                           *)
HolesFilled(tasks) == IF BugRecoveryNoHoles THEN {} ELSE HoleTasks(tasks)

(***************************************************************************)
(* Rule 4: cleanup of the reports nobody adopted, covered or claimed.      *)
(***************************************************************************)
(* A sequence of sequences joined in order.                               *)
RECURSIVE ConcatSeqs(_)
ConcatSeqs(seqs) == IF seqs = <<>> THEN <<>> ELSE Head(seqs) \o ConcatSeqs(Tail(seqs))

(* The recovered view, given the tasks, the holes' tasks, the operators    *)
(* found by rules 1-3 (NoOp for the other ids), the reports to clean up    *)
(* and the order they are cleaned up in.  The first report to clean up of *)
(* an id that has neither task nor operator gets a remove operator; every  *)
(* other one gets a one-shot Remove.  A hole's task does not count: the    *)
(* library names it apart from any dispatcher (package recovery, holeID).  *)
(* Each node's first requests go in IdRank order.                          *)
RecoveredView(tasks, holes, foundOps, cleanup, rank(_)) ==
    LET hasTask(d) == \E t \in tasks : t[1] = d
        task(d) == CHOOSE t \in tasks \union holes : t[1] = d
        cleanupOf(d) == {p \in cleanup : p[1] = d}
        firstCleanup(d) == (CHOOSE p \in cleanupOf(d) : \A q \in cleanupOf(d) : rank(p) <= rank(q))[2]
        cleanupOp(d) == foundOps[d] = NoOp /\ ~hasTask(d) /\ cleanupOf(d) # {}
        recoveredOps == [d \in Ids |-> IF cleanupOp(d) THEN NewOp("remove", "Running", firstCleanup(d), NoNode)
                                       ELSE foundOps[d]]
        oneShot(d, n) == <<d, n>> \in cleanup /\ ~(cleanupOp(d) /\ n = firstCleanup(d))
        firstRequest(d, n) ==
            IF SendsRequests(recoveredOps[d]) /\ OpTarget(recoveredOps[d]) = n THEN <<OpReq(d, recoveredOps[d])>>
            ELSE IF oneShot(d, n) THEN <<RemoveReq(d, "remove", NoNode)>> ELSE <<>>
        inView(d) == \E t \in tasks \union holes : t[1] = d
    IN [sched |-> [d \in Ids |-> IF inView(d) THEN task(d)[3] ELSE "none"],
        node |-> [d \in Ids |-> IF inView(d) THEN task(d)[2] ELSE NoNode],
        ops |-> recoveredOps,
        out |-> [n \in Nodes |-> ConcatSeqs([i \in 1..Len(IdOrder) |-> firstRequest(IdOrder[i], n)])]]

(* The reports rule 4 cleans up: every one no rule kept (losers without    *)
(* temporary coverage, reports neither active nor waiting, closing ones no *)
(* journal accounts for).                                                  *)
CleanupPairs == Unclaimed \ (Accepted \union TempCovered)

(* Recovery of a live table: rules 1-5.  Rule 4 cleans up every report no *)
(* rule kept: losers without temporary coverage, reports neither active   *)
(* nor waiting (a pre-commit target), closing ones no journal accounts    *)
(* for.                                                                    *)
(* TLCEval(e) is e, evaluated once, here: TLC would otherwise evaluate the *)
(* rules behind each name again at every use, for every id and node        *)
(* RecoveredView looks at (RecoveryKeys.cfg: about a third less TLC time). *)
LiveView ==
    LET tasks == TLCEval(MergeTasks \union ResumedTasks \union AdoptedTasks \union TempTasks)
        journaled == TLCEval(JournaledIds)
        covered == TLCEval(TempCovered)
        foundOps == TLCEval([d \in Ids |-> IF MergeOp(d) # NoOp THEN MergeOp(d)
                                           ELSE IF d \in journaled THEN ResumedOp(d)
                                           ELSE IF \E p \in covered : p[1] = d
                                                THEN NewOp("remove", "Running", (CHOOSE p \in covered : p[1] = d)[2], NoNode)
                                           ELSE NoOp])
        holes == TLCEval(HolesFilled(tasks))
        cleanup == TLCEval(CleanupPairs \union Merges.oneShots)
    IN RecoveredView(tasks, holes, foundOps, cleanup, AdoptionRank)

(* Recovery of a dropped table, rule 0: no task; every report is cleaned   *)
(* up, closing ones too, the lowest node first.                            *)
DroppedRank(p) == p[2]
DroppedView == RecoveredView({}, {}, [d \in Ids |-> NoOp], {p \in IdNodePairs : Reported(p[2], p[1])}, DroppedRank)

(* Every live node answered: the maintainer recovers (a live table, or a   *)
(* dropped one: BugRecoveryResurrectsDropped treats it as live), commits   *)
(* the recovered view and runs.                                            *)
Recover ==
    /\ phase = "boot" /\ (BugRecoverEarly \/ \A n \in alive : resp[n].ok)
    /\ LET v == IF TableLive \/ BugRecoveryResurrectsDropped THEN LiveView ELSE DroppedView
       IN Commit(v)
    /\ phase' = "run"
    /\ UNCHANGED <<dmVars, stq, epoch, resp, envVars>>

(***************************************************************************)
(* Which branch of the rules a recovery takes, as witnesses: each prints   *)
(* <<"witness", name>> the first time a state where the maintainer can     *)
(* recover would take it.  Listed as an invariant (always TRUE) in the CI  *)
(* configs; spec/spec_test.go asserts which branches the CI worlds take   *)
(* together, so a rule that goes dead in CI fails (spec/README.md).        *)
(***************************************************************************)
RecoverReady == phase = "boot" /\ \A n \in alive : resp[n].ok
MergeAt(st) == MergeCase # "none" /\ Answer(MergeJournalNode).disp["m"] = st /\ ~Answer(MergeJournalNode).rem["m"]
JournaledOp(op) == \E d \in JournaledIds : ScheduleJournalEntry(d).op = op
RecoveryBranches ==
    \/ ~RecoverReady
    \/ ~TableLive /\ FirstTime(40, "RecoverDroppedTable", TRUE)
    \/ /\ FirstTime(41, "RecoverMergeTargetClosing", MergeCase = "closing")
       /\ FirstTime(42, "RecoverMergeWorking", MergeAt("Working"))
       /\ FirstTime(43, "RecoverMergeCommittedBothSources", MergeAt("Initializing") /\ MergeCase = "resume")
       /\ FirstTime(44, "RecoverMergeCommittedSourceSwept", MergeAt("Initializing") /\ MergeCase = "done")
       /\ FirstTime(45, "RecoverMergePreCommitEvidence", MergeCase = "resume" /\ PreCommit(Answer(MergeJournalNode).disp["m"]))
       /\ FirstTime(46, "RecoverMergePreCommitNoEvidence", MergeCase \in {"cover", "abort"})
       /\ FirstTime(47, "RecoverJournaledRemove", JournaledOp("remove"))
       /\ FirstTime(48, "RecoverJournaledMove", \E d \in JournaledIds : ResumedOp(d).st = "RemoveOrigin")
       /\ FirstTime(49, "RecoverJournaledMoveAborting", \E d \in JournaledIds : ResumedOp(d).st = "AbortRemoveOrigin")
       /\ FirstTime(50, "RecoverJournaledSplit", \E d \in JournaledIds : ResumedOp(d).type = "split")
       /\ FirstTime(51, "RecoverJournalActiveElsewhere", \E d \in MovesOrSplits : Contested(d))
       /\ FirstTime(52, "RecoverAdopt", AdoptedTasks # {})
       /\ FirstTime(53, "RecoverOverlapLoser", Losers # {})
       /\ FirstTime(54, "RecoverHole", HoleTasks(MergeTasks \union ResumedTasks \union AdoptedTasks \union TempTasks) # {})
       /\ FirstTime(55, "RecoverCleanupOperator",
                  \E p \in CleanupPairs : LiveView.ops[p[1]].type = "remove" /\ LiveView.ops[p[1]].origin = p[2])
       /\ FirstTime(57, "RecoverMergeTargetGone", \E n \in alive : Answer(n).mergeJ # 0 /\ ~Reported(n, "m"))
       /\ FirstTime(56, "RecoverCleanupOneShot",
                  \E p \in CleanupPairs : ~(LiveView.ops[p[1]].type = "remove" /\ LiveView.ops[p[1]].origin = p[2]))
=============================================================================
