------------------------------- MODULE Bugs --------------------------------
(***************************************************************************)
(* The seeded bugs, in one place.  Each is a known way to get the design   *)
(* wrong; a config enables at most one by setting the constant Bug to its  *)
(* name (Bug = "none": the design as it is meant to be).  The design       *)
(* modules ask for a bug by the predicate named here, so every place where *)
(* the model deviates from the design reads `IF BugX THEN ... ELSE ...`.   *)
(* spec/configs.tsv names, for each bug, the property TLC must find        *)
(* violated; the Go simulator seeds the same bugs under the same names.    *)
(***************************************************************************)
EXTENDS Schema

(* Dispatcher manager (DispatcherManager.tla) *************************** *)

(* The epoch fence is missing: a node applies requests from any maintainer *)
(* epoch, not only its owner's.  Breaks JournalOnlyAdmitted.               *)
BugNoEpochFence == Bug = "no_epoch_fence"

(* A bootstrap request older than the node's owner epoch still takes the   *)
(* node over, so the owner epoch can go back.  Breaks                      *)
(* OwnerEpochNeverDecreases.                                               *)
BugBootstrapNoFence == Bug = "bootstrap_no_fence"

(* The bootstrap response omits the merge journal (TiCDC 4763), so         *)
(* recovery cannot tell a committed merge from a pre-commit one.  Breaks   *)
(* NoDuplicateActiveDispatcher.                                            *)
BugMergeJournalLost == Bug = "merge_journal_lost"

(* A node starts a merge without journaling it, as TiCDC's nodes did      *)
(* before the fix of 4763: the merge check never runs, so a merge whose    *)
(* target goes leaves its sources waiting, and a bootstrap answer shows a  *)
(* merge without its journal.  Breaks MergesJournaled.                     *)
BugMergeNotJournaled == Bug = "merge_not_journaled"

(* A Remove for a dispatcher the node does not have is journaled anyway;   *)
(* no sweep ever deletes that entry.  Breaks RemoveJournalSound.           *)
BugJournalMissingRemove == Bug = "journal_missing_remove"

(* The sweep leaves closing pre-commit merge targets (Preparing,           *)
(* MergeReady) in place, as TiCDC does (G6): after a DROP TABLE during a   *)
(* merge, the target and its journaled Remove stay on the node for good.   *)
(* Breaks Converge (L2: the dropped table is never cleaned up); the        *)
(* conformance suite also compares it with the simulator's seeded copy.    *)
BugSweepSkipsPrecommit == Bug = "sweep_skips_precommit"

(* A bootstrap is answered but the node keeps obeying its old owner, so   *)
(* it refuses every request of the new maintainer, whose operators resend  *)
(* for ever.  Breaks OperatorsTerminate (L1).                               *)
BugBootstrapKeepsOwner == Bug = "bootstrap_keeps_owner"

(* The merge check aborts only for a member that is there and closing, not *)
(* for a merged dispatcher that is gone: a target that failed and was      *)
(* swept before the check leaves its sources WaitingMerge, and the         *)
(* maintainer's resent merge finds them neither Working nor merging.       *)
(* Breaks OperatorsTerminate (L1) without a failover.                      *)
BugAbortIgnoresMissingTarget == Bug = "abort_ignores_missing_target"

(* A finished merge's journal entry is never dropped.  Breaks              *)
(* MergeResolves (L3).                                                     *)
BugJournalNeverCleaned == Bug = "journal_never_cleaned"

(* Maintainer (Recovery.tla) ********************************************* *)

(* A booting maintainer recovers before every live node answered, from the *)
(* answers it has: a node that did not answer yet still serves what        *)
(* recovery takes for a hole.  Breaks NoDuplicateActiveDispatcher.         *)
BugRecoverEarly == Bug = "recover_before_all_answers"

(* Operators (Operators.tla) ******************************************** *)

(* A move leaves RemoveOrigin on any status from its origin, not only on   *)
(* Stopped, so the destination may start while the origin still serves.    *)
(* Breaks MoveOrder.                                                       *)
BugMoveAdvancesOnAnyStatus == Bug = "move_advances_on_any_status"

(* A split whose origin died is dropped without marking its span Absent,   *)
(* leaving a Scheduling task nobody schedules.  Breaks SchedulingIsOwned.  *)
BugSplitAbortKeepsScheduling == Bug = "split_abort_keeps_scheduling"

(* A move whose destination died marks its task Absent at once, instead of *)
(* waiting in AbortRemoveOrigin until the origin stopped, so the basic     *)
(* scheduler may add the span on another node while the origin still      *)
(* serves it.  Breaks NoDuplicateActiveDispatcher.                         *)
BugMoveAbortAbsentEarly == Bug = "move_abort_absent_early"

(* Maintainer (Maintainer.tla) ****************************************** *)

(* The basic scheduler's add does not bind its task to the chosen node     *)
(* (BindSpanToNode is skipped).  Breaks NodeBinding.                       *)
BugAddNoBind == Bug = "add_no_bind"

(* A move sends Create to its destination at once instead of after the     *)
(* origin stopped.  Breaks NoDuplicateActiveDispatcher.                    *)
BugMoveDestBeforeOriginStopped == Bug = "move_dest_before_origin_stopped"

(* A merge starts without occupy operators on its sources.  Breaks         *)
(* MergeOccupiesSources.                                                   *)
BugMergeNoOccupy == Bug = "merge_no_occupy"

(* DROP TABLE leaves the tasks' running operators in place instead of      *)
(* replacing them with removes.  Breaks OperatorHasTask.                   *)
BugDropKeepsOperators == Bug = "drop_keeps_operators"

(* Operators never resend, so one lost request leaves its operator         *)
(* waiting forever.  Breaks OperatorsTerminate (L1).                       *)
BugNoResend == Bug = "no_resend"

(* Recovery (Recovery.tla) ********************************************** *)

(* Recovery treats every journaled merge as done, whatever the state of    *)
(* its merged dispatcher (the commit point is ignored).  Breaks            *)
(* MergeCommitRespected.                                                   *)
BugRecoveryIgnoresCommitPoint == Bug = "recovery_ignores_commit_point"

(* Recovery ignores the schedule journal: a journaled move or split is not *)
(* resumed.  Breaks RecoveryResumesJournal.                                *)
BugRecoveryIgnoresJournal == Bug = "recovery_ignores_journal"

(* Recovery leaves key ranges no report covers without a task.  Breaks     *)
(* DesiredCoverage, and Converge (L2) in the liveness config.              *)
BugRecoveryNoHoles == Bug = "recovery_no_holes"

(* Recovery treats a dropped table as live and gives it tasks again        *)
(* (TiCDC #4453 undone).  Breaks DroppedStaysDropped.                      *)
BugRecoveryResurrectsDropped == Bug = "recovery_resurrects_dropped"

(* Recovery resumes a journaled move or split although another report may  *)
(* serve its keys (rule 2 without Contested): a resumed split adds its     *)
(* halves while another copy still serves the whole span.  Breaks          *)
(* NoDuplicateActiveDispatcher, from a snapshot no run of the Failover     *)
(* worlds reaches (Snapshots.tla, "contested").                            *)
BugNoActiveElsewhere == Bug = "no_active_elsewhere"

(* Recovery resumes a pre-commit merge without full evidence (a source     *)
(* closing or gone): the node aborts that merge, and the resumed operator  *)
(* waits for it for ever while the gone source's keys are served by        *)
(* nobody.  Breaks Converge (L2), from a snapshot no run of the Failover   *)
(* worlds reaches (Snapshots.tla, "unwitnessed_merge").                    *)
BugMergeResumeWithoutEvidence == Bug = "merge_resume_without_evidence"
=============================================================================
