------------------------------ MODULE Recovery ------------------------------
(***************************************************************************)
(* Recovery: the new maintainer maps the live nodes' bootstrap responses   *)
(* and the table list to tasks and operators in their exact states, and    *)
(* the requests to send first (package recovery; docs/recovery.md).  The  *)
(* rules, in order:                                                        *)
(*  0. Dropped table (C6, G5): no task at all; every reported dispatcher   *)
(*     is removed, a closing one too: its journaled Remove is resumed with *)
(*     the new epoch (domain.md 7.6), so the remove finishes even if the   *)
(*     old request's Stopped was addressed to the dead maintainer.         *)
(*  1. Merge journal (3.4), on the lowest node that journals it and reports *)
(*     "m": target Working, or committed with a source swept: "m" is the    *)
(*     survivor; committed with both sources, or pre-commit with full      *)
(*     evidence (both sources WaitingMerge): the merge resumes with its    *)
(*     occupies; pre-commit without evidence: the target is removed (G6)   *)
(*     and the WaitingMerge sources are adopted (their manager restores    *)
(*     them); so too when the target is closing already, or gone (its      *)
(*     manager aborts a merge whose target is missing).  Without the       *)
(*     journal (TiCDC 4763) none of this can happen.                       *)
(*  2. Schedule journal (3.3, G4): a journaled Remove whose dispatcher is  *)
(*     still reported resumes its operator exactly: a move in RemoveOrigin *)
(*     towards its own destination (AbortRemoveOrigin if that died), a     *)
(*     split, a remove.  A move or split is not resumed if the id is       *)
(*     active on another node (the journaled copy is already closing).     *)
(*  3. Adoption (3.2, G8): the remaining active reports become Replicating *)
(*     tasks, accepted greedily in a fixed order (Working first, then by   *)
(*     id rank, then node) so no two accepted spans overlap.               *)
(*  4. Cleanup (3.5): every other report that is not closing, or closing   *)
(*     with no journal entry at its node, is removed: a remove operator    *)
(*     where the id is free, else a one-shot Remove.                        *)
(*  5. Holes (3.2): an uncovered range gets an Absent task (its own id).   *)
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
(* Every <<id, live node>> pair: the reports there could be.               *)
IdNodePairs == Ids \X alive

(***************************************************************************)
(* Rule 1: the merge journal.                                              *)
(***************************************************************************)
(* The live nodes that journal a merge and still report its target "m",    *)
(* and the one recovery reads (the lowest).                                *)
MergeJournalNodes == {n \in alive : Answer(n).mergeJ # 0 /\ Reported(n, "m")}
MergeJournalNode == Min(MergeJournalNodes)
(* Node n reports source s waiting for the merge (and not being removed). *)
SourceWaits(n, s) == Answer(n).disp[s] = "WaitingMerge" /\ ~Answer(n).rem[s]
(* Full evidence of a pre-commit merge at n: the target is pre-commit and  *)
(* both sources wait for it.                                               *)
PreCommitEvidence(n) == PreCommit(Answer(n).disp["m"]) /\ \A s \in Sources : SourceWaits(n, s)
(* What the journaled merge at node n comes to, by the state of its target *)
(* and sources there: "done" (the target survives), "resume" (the merge   *)
(* resumes with its occupies) or "abort" (the target is removed).          *)
MergeRuleAt(n) ==
    LET st == Answer(n).disp["m"] IN
    IF Answer(n).rem["m"] THEN "abort"                                  \* target closing already
    ELSE IF st = "Working" THEN "done"
    ELSE IF st = "Initializing" /\ \A s \in Sources : Reported(n, s) THEN "resume"  \* committed, both sources there
    ELSE IF st = "Initializing" THEN "done"                             \* committed, a source swept
    ELSE IF PreCommitEvidence(n) THEN "resume"
    ELSE IF BugMergeResumeWithoutEvidence THEN "resume"                 \* seeded bug: no evidence needed
    ELSE "abort"                                                        \* pre-commit without evidence
(* Rule 1's outcome: "none" when no merge is journaled, else MergeRuleAt   *)
(* of the node recovery reads (BugRecoveryIgnoresCommitPoint: "done").     *)
MergeCase ==
    IF MergeJournalNodes = {} THEN "none"
    ELSE IF BugRecoveryIgnoresCommitPoint THEN "done"
    ELSE MergeRuleAt(MergeJournalNode)
(* The tasks rule 1 creates: the surviving target, or all three ids        *)
(* Scheduling under the resumed merge.                                     *)
MergeTasks ==
    CASE MergeCase = "done" -> {<<"m", MergeJournalNode, "Replicating">>}
      [] MergeCase = "resume" -> {<<d, MergeJournalNode, "Scheduling">> : d \in Ids}
      [] OTHER -> {}
(* The reports rule 1 accounts for (no other rule adopts or cleans them),  *)
(* and their ids.                                                          *)
MergeClaims ==
    CASE MergeCase = "done" -> {<<d, MergeJournalNode>> : d \in {x \in Ids : Reported(MergeJournalNode, x)}}
      [] MergeCase = "resume" -> {<<d, MergeJournalNode>> : d \in Ids}
      [] OTHER -> {}
MergeIds == {p[1] : p \in MergeClaims}
(* Sources still WaitingMerge (and not closing) that rule 1 does not       *)
(* resume or resolve: adoption candidates, since their dispatcher manager  *)
(* restores them to Working when it aborts the merge (an aborted merge; a *)
(* journaled merge whose target failed and was swept before the check,    *)
(* which MergeJournalNodes does not list).  Adoption ranks them after the *)
(* active reports, so a committed target that covers them wins.           *)
WaitingSources == {p \in Sources \X alive : SourceWaits(p[2], p[1])} \ MergeClaims
(* The operators of a resumed merge: the merge on "m", occupies on the     *)
(* sources.                                                                *)
MergeOp(d) == IF d = "m" THEN NewOp("merge", "Running", MergeJournalNode, NoNode)
              ELSE NewOp("occupy", "Holding", MergeJournalNode, NoNode)

(***************************************************************************)
(* Rule 2: the schedule journal.                                           *)
(***************************************************************************)
(* The live nodes whose schedule journal holds a Remove of d and that      *)
(* still report d; the one recovery reads (the lowest) and its entry.      *)
ScheduleJournalNodes(d) == {n \in alive : Answer(n).opJ[d] # NoRec /\ Reported(n, d)}
ScheduleJournalNode(d) == Min(ScheduleJournalNodes(d))
ScheduleJournalEntry(d) == Answer(ScheduleJournalNode(d)).opJ[d]
(* d serves on a node other than the journaling one.                       *)
ActiveElsewhere(d) == \E n \in alive : n # ScheduleJournalNode(d) /\ ReportedActive(n, d)
(* A journaled move or split of d may resume: d is active on no node but   *)
(* the journaling one.  Seeded bug no_active_elsewhere resumes it anyway.  *)
MoveOrSplitMayResume(d) == IF BugNoActiveElsewhere THEN TRUE ELSE ~ActiveElsewhere(d)
(* The ids whose journaled operator resumes: not decided by rule 1,        *)
(* journaled, and a remove, or a move or split of an id active nowhere     *)
(* else (BugRecoveryIgnoresJournal: none).                                 *)
ResumedIds ==
    IF BugRecoveryIgnoresJournal THEN {}
    ELSE {d \in Ids \ MergeIds :
            /\ ScheduleJournalNodes(d) # {}
            /\ ScheduleJournalEntry(d).op = "remove" \/ MoveOrSplitMayResume(d)}
(* The resumed operator, in the state the journal entry implies: a move    *)
(* towards its own destination while that lives, else aborting.           *)
ResumedOp(d) ==
    LET entry == ScheduleJournalEntry(d)
        origin == ScheduleJournalNode(d)
    IN CASE entry.op = "move" ->
              NewOp("move", IF entry.dest \in alive /\ entry.dest # origin THEN "RemoveOrigin" ELSE "AbortRemoveOrigin",
                   origin, entry.dest)
         [] entry.op = "split" -> NewOp("split", "Running", origin, NoNode)
         [] OTHER -> NewOp("remove", "Running", origin, NoNode)
(* The tasks rule 2 creates (a remove owns no task) and the reports it     *)
(* accounts for.                                                           *)
ResumedTasks == {<<d, ScheduleJournalNode(d), "Scheduling">> : d \in {x \in ResumedIds : ScheduleJournalEntry(x).op # "remove"}}
ResumedClaims == {<<d, ScheduleJournalNode(d)>> : d \in ResumedIds}

(***************************************************************************)
(* Rule 3: adoption, greedy in a fixed order.                              *)
(***************************************************************************)
(* A report's place in the order: Working first, then Initializing, then   *)
(* the rest; then by id rank; then by node.                                *)
AdoptionRank(p) ==
    (IF Answer(p[2]).disp[p[1]] = "Working" THEN 0 ELSE IF Answer(p[2]).disp[p[1]] = "Initializing" THEN 1 ELSE 2) * 100
    + IdRank[p[1]] * 10 + p[2]
(* Report p may join the accepted pairs: its id is not taken and its span  *)
(* overlaps none of theirs.                                                *)
FitsAccepted(p, accepted) == \A x \in accepted : x[1] # p[1] /\ ~Overlap(x[1], p[1])
(* Accept the candidates one by one in AdoptionRank order, each if it      *)
(* fits the ones accepted so far.                                          *)
RECURSIVE AdoptGreedily(_, _)
AdoptGreedily(candidates, accepted) ==
    IF candidates = {} THEN accepted
    ELSE LET p == CHOOSE x \in candidates : \A y \in candidates : AdoptionRank(x) <= AdoptionRank(y)
         IN AdoptGreedily(candidates \ {p}, IF FitsAccepted(p, accepted) THEN accepted \union {p} ELSE accepted)
(* Rules 1 and 2 place their tasks first; adoption starts from them.       *)
JournalPlaced == {<<t[1], t[2]>> : t \in MergeTasks \union ResumedTasks}
(* The active reports and an aborted merge's waiting sources that rules 1  *)
(* and 2 did not claim.                                                    *)
AdoptionCandidates ==
    ({p \in IdNodePairs : ReportedActive(p[2], p[1])} \union WaitingSources) \ (MergeClaims \union ResumedClaims)
Accepted == AdoptGreedily(AdoptionCandidates, JournalPlaced)
AdoptedTasks == {<<p[1], p[2], "Replicating">> : p \in Accepted \ JournalPlaced}

(***************************************************************************)
(* Rule 5: holes.                                                          *)
(***************************************************************************)
(* The keys the given tasks cover.                                         *)
CoveredKeys(tasks) == UNION {Keys[t[1]] : t \in tasks}
(* An Absent task for the keys the given tasks leave uncovered, if any.    *)
HoleTasks(tasks) ==
    IF TableKeys \ CoveredKeys(tasks) = {} THEN {}
    ELSE {<<IdOf(TableKeys \ CoveredKeys(tasks)), NoNode, "Absent">>}
(* The given tasks with their holes filled (BugRecoveryNoHoles: as they    *)
(* are).                                                                   *)
WithHoles(tasks) == IF BugRecoveryNoHoles THEN tasks ELSE tasks \union HoleTasks(tasks)

(***************************************************************************)
(* Rule 4: cleanup of the reports nobody adopted or claimed.               *)
(***************************************************************************)
(* A closing report that no journal at its node accounts for (a merged    *)
(* dispatcher closed by an abort whose journal entry is gone, domain.md    *)
(* 7.19): no operator would wait for its Stopped, so it is cleaned up too. *)
Unaccounted(n, d) == Answer(n).rem[d] /\ Answer(n).opJ[d] = NoRec /\ Answer(n).mergeJ = 0
(* The reports not closing already, or closing unaccounted, except those   *)
(* in keep.                                                                *)
CleanupPairs(keep) ==
    {p \in IdNodePairs : Reported(p[2], p[1]) /\ (~Answer(p[2]).rem[p[1]] \/ Unaccounted(p[2], p[1]))} \ keep

(* The recovered view, given the tasks, the operators found by rules 1-2   *)
(* (NoOp for the other ids) and the reports to clean up.  A report to     *)
(* clean up gets a remove operator on the lowest such node when its id has *)
(* neither task nor operator; every other one gets a one-shot Remove.      *)
(* Each node's first requests go in id order "m", "a", "b".                *)
RecoveredView(tasks, journalOps, cleanup) ==
    LET hasTask(d) == \E t \in tasks : t[1] = d
        task(d) == CHOOSE t \in tasks : t[1] = d
        cleanupNodes(d) == {n \in alive : <<d, n>> \in cleanup}
        cleanupOp(d) == journalOps[d] = NoOp /\ ~hasTask(d) /\ cleanupNodes(d) # {}
        recoveredOps == [d \in Ids |-> IF cleanupOp(d) THEN NewOp("remove", "Running", Min(cleanupNodes(d)), NoNode)
                                       ELSE journalOps[d]]
        oneShot(d, n) == <<d, n>> \in cleanup /\ ~(cleanupOp(d) /\ n = Min(cleanupNodes(d)))
        firstRequest(d, n) ==
            IF SendsRequests(recoveredOps[d]) /\ OpTarget(recoveredOps[d]) = n THEN <<OpReq(d, recoveredOps[d])>>
            ELSE IF oneShot(d, n) THEN <<RemoveReq(d, "remove", NoNode)>> ELSE <<>>
    IN [sched |-> [d \in Ids |-> IF hasTask(d) THEN task(d)[3] ELSE "none"],
        node |-> [d \in Ids |-> IF hasTask(d) THEN task(d)[2] ELSE NoNode],
        ops |-> recoveredOps,
        out |-> [n \in Nodes |-> firstRequest("m", n) \o firstRequest("a", n) \o firstRequest("b", n)]]

(* Recovery of a live table: rules 1-5.                                    *)
LiveView ==
    LET tasks == MergeTasks \union ResumedTasks \union AdoptedTasks
        journalOps == [d \in Ids |-> IF d \in MergeIds /\ MergeCase = "resume" THEN MergeOp(d)
                                     ELSE IF d \in ResumedIds THEN ResumedOp(d) ELSE NoOp]
    IN RecoveredView(WithHoles(tasks), journalOps, CleanupPairs(Accepted \union MergeClaims \union ResumedClaims))

(* Recovery of a dropped table, rule 0: no task; every report is cleaned   *)
(* up, closing ones too.                                                   *)
DroppedView == RecoveredView({}, [d \in Ids |-> NoOp], {p \in IdNodePairs : Reported(p[2], p[1])})

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
JournaledOp(op) == \E d \in ResumedIds : ScheduleJournalEntry(d).op = op
RecoveryBranches ==
    \/ ~RecoverReady
    \/ ~TableLive /\ FirstTime(40, "RecoverDroppedTable", TRUE)
    \/ /\ FirstTime(41, "RecoverMergeTargetClosing", MergeCase # "none" /\ Answer(MergeJournalNode).rem["m"])
       /\ FirstTime(42, "RecoverMergeWorking", MergeAt("Working"))
       /\ FirstTime(43, "RecoverMergeCommittedBothSources", MergeAt("Initializing") /\ MergeCase = "resume")
       /\ FirstTime(44, "RecoverMergeCommittedSourceSwept", MergeAt("Initializing") /\ MergeCase = "done")
       /\ FirstTime(45, "RecoverMergePreCommitEvidence", MergeCase = "resume" /\ PreCommit(Answer(MergeJournalNode).disp["m"]))
       /\ FirstTime(46, "RecoverMergePreCommitNoEvidence", MergeCase = "abort" /\ ~Answer(MergeJournalNode).rem["m"])
       /\ FirstTime(47, "RecoverJournaledRemove", JournaledOp("remove"))
       /\ FirstTime(48, "RecoverJournaledMove", \E d \in ResumedIds : ResumedOp(d).st = "RemoveOrigin")
       /\ FirstTime(49, "RecoverJournaledMoveAborting", \E d \in ResumedIds : ResumedOp(d).st = "AbortRemoveOrigin")
       /\ FirstTime(50, "RecoverJournaledSplit", JournaledOp("split"))
       /\ FirstTime(51, "RecoverJournalActiveElsewhere",
                  \E d \in Ids \ MergeIds : ScheduleJournalNodes(d) # {} /\ d \notin ResumedIds)
       /\ FirstTime(52, "RecoverAdopt", AdoptedTasks # {})
       /\ FirstTime(53, "RecoverOverlapLoser", AdoptionCandidates \ Accepted # {})
       /\ FirstTime(54, "RecoverHole", HoleTasks(MergeTasks \union ResumedTasks \union AdoptedTasks) # {})
       /\ FirstTime(55, "RecoverCleanupOperator", \E d \in Ids \ ResumedIds : LiveView.ops[d].type = "remove")
       /\ FirstTime(57, "RecoverMergeTargetGone", \E n \in alive : Answer(n).mergeJ # 0 /\ ~Reported(n, "m"))
       /\ FirstTime(56, "RecoverCleanupOneShot",
                  \E p \in CleanupPairs(Accepted \union MergeClaims \union ResumedClaims) :
                      ~(LiveView.ops[p[1]].type = "remove" /\ LiveView.ops[p[1]].origin = p[2]))
=============================================================================
