-------------------------- MODULE DispatcherManager --------------------------
(***************************************************************************)
(* A node's dispatcher manager (domain.md section 2): requests behind the  *)
(* epoch fence, the schedule journal (a Remove's record) and the merge     *)
(* journal, dispatcher progress, merge execution with its commit point and *)
(* abort, sweeps that report Stopped, and bootstrap responses.             *)
(***************************************************************************)
EXTENDS Network

(* The fence (domain.md 3.7): a request is applied only if its sender's    *)
(* epoch is the owner epoch.  Seeded bug no_epoch_fence applies any.       *)
Admitted(n, e) == BugNoEpochFence \/ e = owner[n]

(* Create: a missing dispatcher is created Initializing.  A Create is not  *)
(* journaled: the node registers the dispatcher in the step that admits    *)
(* the Create, so a bootstrap answer reports the dispatcher itself (package *)
(* node does the same, and recovery has no rule for a Create journal).     *)
(* A Create for an existing dispatcher is dropped silently.                *)
HandleCreate(n, e, m) ==
    /\ IF Admitted(n, e) /\ disp[n][m.id] = "none"
       THEN disp' = [disp EXCEPT ![n][m.id] = "Initializing"]
       ELSE UNCHANGED disp
    /\ UNCHANGED <<rem, opJ, mergeJ, owner, stq, resp>>

(* Remove: an existing dispatcher starts closing (removing) and the        *)
(* request's record is journaled; a missing one answers Stopped at once    *)
(* and is not journaled (nothing would delete the entry): seeded bug       *)
(* journal_missing_remove journals it anyway.                              *)
HandleRemove(n, e, m) ==
    /\ IF ~Admitted(n, e) THEN UNCHANGED <<rem, opJ, stq>>
       ELSE IF disp[n][m.id] # "none" THEN
            /\ rem' = [rem EXCEPT ![n][m.id] = TRUE]
            /\ opJ' = [opJ EXCEPT ![n][m.id] = [op |-> m.op, epoch |-> e, dest |-> m.dest]]
            /\ UNCHANGED stq
       ELSE /\ Report(n, m.id, "Stopped") /\ UNCHANGED rem
            /\ IF BugJournalMissingRemove
               THEN opJ' = [opJ EXCEPT ![n][m.id] = [op |-> m.op, epoch |-> e, dest |-> m.dest]]
               ELSE UNCHANGED opJ
    /\ UNCHANGED <<disp, mergeJ, owner, resp>>

(* Merge (2.2, 2.3): journaled after the fence.  If every source is       *)
(* Working and "m" is missing, the merge starts: "m" Preparing, sources    *)
(* WaitingMerge.  If "m" is already Working it is re-reported.  A merge    *)
(* that can neither start nor is in progress changes nothing: a journal    *)
(* entry already there is an earlier attempt's whose target is gone, and   *)
(* DMAbortMerge must still abort it so its sources return to Working       *)
(* (TiCDC drops the entry here, which strands those sources).  Seeded bug  *)
(* merge_not_journaled never journals it.                                  *)
MergeJournal(n, e) == mergeJ' = IF BugMergeNotJournaled THEN mergeJ ELSE [mergeJ EXCEPT ![n] = e]
HandleMerge(n, e) ==
    /\ IF ~Admitted(n, e) THEN UNCHANGED <<disp, mergeJ, stq>>
       ELSE IF disp[n]["m"] = "none" /\ \A s \in Sources : disp[n][s] = "Working" /\ ~rem[n][s] THEN
            /\ disp' = [disp EXCEPT ![n] = [d \in Ids |-> IF d = "m" THEN "Preparing"
                                                  ELSE IF d \in Sources THEN "WaitingMerge" ELSE disp[n][d]]]
            /\ MergeJournal(n, e)
            /\ UNCHANGED stq
       ELSE IF disp[n]["m"] = "none" THEN UNCHANGED <<disp, mergeJ, stq>>
       ELSE
            /\ MergeJournal(n, e)
            /\ IF disp[n]["m"] = "Working" /\ ~rem[n]["m"] THEN Report(n, "m", "Working") ELSE UNCHANGED stq
            /\ UNCHANGED disp
    /\ UNCHANGED <<rem, opJ, owner, resp>>

(* Bootstrap (2.4): the owner switches to the new epoch first, then the    *)
(* response carries every dispatcher with its state and removing flag, the *)
(* schedule journal and the merge journal.  A response reaches only the    *)
(* maintainer of its epoch (others are dropped, 25c).  Seeded bugs:        *)
(* merge_journal_lost omits the merge journal (TiCDC 4763);               *)
(* bootstrap_no_fence lets a stale bootstrap take the node over;          *)
(* bootstrap_keeps_owner answers but does not switch the owner.            *)
HandleBootstrap(n, e) ==
    /\ IF e >= owner[n] \/ BugBootstrapNoFence THEN
          /\ owner' = IF BugBootstrapKeepsOwner THEN owner ELSE [owner EXCEPT ![n] = e]
          /\ resp' = IF phase = "boot" /\ epoch = e
                     THEN [resp EXCEPT ![n] = [ok |-> TRUE, disp |-> disp[n], rem |-> rem[n], opJ |-> opJ[n],
                                               mergeJ |-> IF BugMergeJournalLost THEN 0 ELSE mergeJ[n]]]
                     ELSE resp
       ELSE UNCHANGED <<owner, resp>>
    /\ UNCHANGED <<disp, rem, opJ, mergeJ, stq>>

(* Node n handles request m that the maintainer of epoch e sent.          *)
HandleRequest(n, e, m) ==
    CASE m.type = "create" -> HandleCreate(n, e, m)
      [] m.type = "remove" -> HandleRemove(n, e, m)
      [] m.type = "merge" -> HandleMerge(n, e)
      [] m.type = "bootstrap" -> HandleBootstrap(n, e)

(* Node n takes the next request of epoch e's stream.                      *)
DMDeliver(n, e) ==
    /\ n \in alive /\ req[n][e] # <<>>
    /\ HandleRequest(n, e, Head(req[n][e]))
    /\ req' = [req EXCEPT ![n][e] = Tail(@)]
    /\ UNCHANGED <<epoch, phase, sched, node, ops, envVars>>

(* Fault: the network delivers the next request twice (bounded): at once  *)
(* (the copy stays at the head), or, with DupTiming = "late", after the    *)
(* requests queued behind it.                                              *)
DMDeliverDup(n, e) ==
    /\ n \in alive /\ req[n][e] # <<>> /\ faults.dup < MaxDup
    /\ HandleRequest(n, e, Head(req[n][e]))
    /\ faults' = [faults EXCEPT !.dup = @ + 1]
    /\ req' = IF DupTiming = "late" THEN [req EXCEPT ![n][e] = Append(Tail(@), Head(@))] ELSE req
    /\ UNCHANGED <<epoch, phase, sched, node, ops, alive, dropEpoch, budget>>

(* The merged dispatcher finished preparing.                               *)
DMPrepared(n) ==
    /\ n \in alive /\ disp[n]["m"] = "Preparing" /\ ~rem[n]["m"]
    /\ disp' = [disp EXCEPT ![n]["m"] = "MergeReady"]
    /\ UNCHANGED <<rem, opJ, mergeJ, owner, netVars, maintainerVars, envVars>>

(* Fault: the merged dispatcher fails before the commit point (its event  *)
(* source cannot be prepared; bounded by MaxFail), and its dispatcher      *)
(* manager closes it.  The merge check then aborts the merge on a live     *)
(* table and the maintainer's resend starts it again: the one way, besides *)
(* a DROP TABLE, for a merge to abort without a failover.                   *)
DMPrepareFail(n) ==
    /\ n \in alive /\ PreCommit(disp[n]["m"]) /\ ~rem[n]["m"] /\ faults.fail < MaxFail
    /\ rem' = [rem EXCEPT ![n]["m"] = TRUE]
    /\ faults' = [faults EXCEPT !.fail = @ + 1]
    /\ UNCHANGED <<disp, opJ, mergeJ, owner, netVars, maintainerVars, alive, dropEpoch, budget>>

(* The DM checks a merge (TiCDC's MergeCheckTask: commit or abort) while   *)
(* the merge is journaled.  An abort deletes the entry, so an aborted      *)
(* merge whose target is still closing is not aborted over and over.       *)
MergeChecked(n) == mergeJ[n] # 0

(* The commit point (2.2 doMerge): every source closes, "m" Initializing.  *)
DMCommit(n) ==
    /\ n \in alive /\ MergeChecked(n) /\ disp[n]["m"] = "MergeReady" /\ ~rem[n]["m"]
    /\ \A s \in Sources : disp[n][s] = "WaitingMerge" /\ ~rem[n][s]
    /\ disp' = [disp EXCEPT ![n]["m"] = "Initializing"]
    /\ rem' = [rem EXCEPT ![n] = [d \in Ids |-> d \in Sources \/ rem[n][d]]]
    /\ UNCHANGED <<opJ, mergeJ, owner, netVars, maintainerVars, envVars>>

(* A journaled merge aborts when its merged dispatcher is missing, or when  *)
(* it is pre-commit and a member is missing or being removed (TiCDC's      *)
(* shouldAbortMerge): sources that wait, and are not closing, go back to    *)
(* Working, "m", if it is there, is removed, the merge journal deleted.    *)
(* Without the missing-target case (seeded bug                            *)
(* abort_ignores_missing_target), a target removed and swept before the    *)
(* check leaves its sources waiting until the next failover.  Sources the  *)
(* commit closed stay closing: once committed and moved away, "m" is       *)
(* missing here too, and a source back at Working would serve its keys     *)
(* beside "m" on the other node until its sweep (NoOverlapEvenClosing).    *)
MergeTargetGone(n) == disp[n]["m"] = "none"
Restored(n, s) == IF disp[n][s] = "WaitingMerge" /\ ~rem[n][s] THEN "Working" ELSE disp[n][s]
DMAbortMerge(n) ==
    /\ n \in alive /\ MergeChecked(n)
    /\ \/ MergeTargetGone(n) /\ ~BugAbortIgnoresMissingTarget
       \/ /\ PreCommit(disp[n]["m"])
          /\ rem[n]["m"] \/ \E s \in Sources : disp[n][s] # "WaitingMerge" \/ rem[n][s]
    /\ disp' = [disp EXCEPT ![n] = [d \in Ids |-> IF d \in Sources THEN Restored(n, d) ELSE disp[n][d]]]
    /\ rem' = IF MergeTargetGone(n) THEN rem ELSE [rem EXCEPT ![n]["m"] = TRUE]
    /\ mergeJ' = [mergeJ EXCEPT ![n] = 0]
    /\ UNCHANGED <<opJ, owner, netVars, maintainerVars, envVars>>

(* A dispatcher receives its first event and reports Working.              *)
DMWorking(n, d) ==
    /\ n \in alive /\ disp[n][d] = "Initializing" /\ ~rem[n][d]
    /\ disp' = [disp EXCEPT ![n][d] = "Working"]
    /\ Report(n, d, "Working")
    /\ UNCHANGED <<rem, opJ, mergeJ, owner, req, maintainerVars, envVars>>

(* The sweep deletes a closed dispatcher, drops its journal entry and     *)
(* reports Stopped.  Pre-commit merge targets are swept too (opfsm fixes   *)
(* G6); seeded bug sweep_skips_precommit keeps TiCDC's behaviour.          *)
DMSweep(n, d) ==
    /\ n \in alive /\ disp[n][d] # "none" /\ rem[n][d]
    /\ BugSweepSkipsPrecommit => ~PreCommit(disp[n][d])
    /\ disp' = [disp EXCEPT ![n][d] = "none"]
    /\ rem' = [rem EXCEPT ![n][d] = FALSE]
    /\ opJ' = [opJ EXCEPT ![n][d] = NoRec]
    /\ Report(n, d, "Stopped")
    /\ UNCHANGED <<mergeJ, owner, req, maintainerVars, envVars>>

(* A finished merge's journal entry is dropped once no source waits for    *)
(* the merge (none is WaitingMerge: swept, or a later incarnation of the   *)
(* span after the target was split again) and the target is missing or    *)
(* Working (cleanupFinishedMergeOperators).                                *)
(* Seeded bug journal_never_cleaned never drops it (L3).                   *)
DMJournalCleanup(n) ==
    /\ ~BugJournalNeverCleaned
    /\ n \in alive /\ mergeJ[n] # 0
    /\ \A s \in Sources : disp[n][s] # "WaitingMerge"
    /\ disp[n]["m"] \in {"none", "Working"}
    /\ mergeJ' = [mergeJ EXCEPT ![n] = 0]
    /\ UNCHANGED <<disp, rem, opJ, owner, netVars, maintainerVars, envVars>>
=============================================================================
