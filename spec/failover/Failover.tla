------------------------------ MODULE Failover ------------------------------
(***************************************************************************)
(* opfsm's failover model, top level: the initial placement, the next-     *)
(* state relation (maintainer, dispatcher managers, network, faults), the  *)
(* fairness that liveness assumes, and the properties (Properties.tla).   *)
(* Modules: Schema (state) <- Bugs (seeded bugs) <- Network <- Operators  *)
(* <- Maintainer, Recovery; Network <- DispatcherManager; Schema <-        *)
(* Properties.                                                             *)
(***************************************************************************)
EXTENDS DispatcherManager, Maintainer, Recovery, Properties

InitialIds == IF Layout = "whole" THEN {"m"} ELSE Sources

Init ==
    /\ alive = Nodes
    /\ disp = [n \in Nodes |-> [d \in Ids |-> IF n = 1 /\ d \in InitialIds THEN "Working" ELSE "none"]]
    /\ rem = [n \in Nodes |-> [d \in Ids |-> FALSE]]
    /\ opJ = [n \in Nodes |-> [d \in Ids |-> NoRec]]
    /\ mergeJ = [n \in Nodes |-> 0]
    /\ owner = [n \in Nodes |-> 1]
    /\ req = [n \in Nodes |-> [e \in Epochs |-> <<>>]]
    /\ stq = [n \in Nodes |-> <<>>]
    /\ epoch = 1 /\ phase = "run" /\ resp = [n \in Nodes |-> NoResp]
    /\ sched = [d \in Ids |-> IF d \in InitialIds THEN "Replicating" ELSE "none"]
    /\ node = [d \in Ids |-> IF d \in InitialIds THEN 1 ELSE NoNode]
    /\ ops = [d \in Ids |-> NoOp]
    /\ dropEpoch = 0 /\ budget = MaxOps
    /\ faults = [loss |-> 0, dup |-> 0, crash |-> 0, fail |-> 0]

(* Fault: node n crashes (bounded; one node always survives).  Its         *)
(* dispatchers, journals and streams are gone.  A running maintainer       *)
(* learns it at once (OnNodeRemove); a bootstrapping one stops waiting for *)
(* n's answer.                                                             *)
NodeCrash(n) ==
    /\ n \in alive /\ Cardinality(alive) > 1 /\ faults.crash < MaxCrash
    /\ alive' = alive \ {n}
    /\ disp' = [disp EXCEPT ![n] = [d \in Ids |-> "none"]]
    /\ rem' = [rem EXCEPT ![n] = [d \in Ids |-> FALSE]]
    /\ opJ' = [opJ EXCEPT ![n] = [d \in Ids |-> NoRec]]
    /\ mergeJ' = [mergeJ EXCEPT ![n] = 0]
    /\ stq' = [stq EXCEPT ![n] = <<>>]
    /\ faults' = [faults EXCEPT !.crash = @ + 1]
    /\ IF phase = "run"
       THEN LET v == OnNodeRemove(View, n) IN
            sched' = v.sched /\ node' = v.node /\ ops' = v.ops /\ PostTo(v.out, {n}) /\ UNCHANGED resp
       ELSE /\ resp' = [resp EXCEPT ![n] = NoResp] /\ PostTo(NoRequests, {n})
            /\ UNCHANGED <<sched, node, ops>>
    /\ UNCHANGED <<owner, epoch, phase, dropEpoch, budget>>

Next ==
    \/ StartSplit \/ StartMerge \/ DropTable \/ MaintainerCrash \/ Recover
    \/ \E d \in Ids : Resend(d) \/ \E n \in Nodes : ScheduleAbsent(d, n) \/ StartMove(d, n)
    \/ \E n \in Nodes : MaintainerStatus(n) \/ NodeCrash(n)
    \/ \E n \in Nodes, e \in Epochs : DMDeliver(n, e) \/ DMDeliverDup(n, e)
    \/ \E n \in Nodes, e \in Epochs, i \in 1..MaxReq : Lose(n, e, i)
    \/ \E n \in Nodes : DMPrepared(n) \/ DMPrepareFail(n) \/ DMCommit(n) \/ DMAbortMerge(n) \/ DMJournalCleanup(n)
    \/ \E n \in Nodes, d \in Ids : DMWorking(n, d) \/ DMSweep(n, d)

Spec == Init /\ [][Next]_vars

(* Weak fairness of Recover, stated on states.  Recover is enabled exactly *)
(* when the maintainer boots and every live node answered; only another    *)
(* maintainer crash (bounded) disables it, so with finitely many crashes   *)
(* this is equivalent to WF_vars(Recover) and TLC 2.18 checks it without   *)
(* evaluating ENABLED Recover, which made liveness 200 times slower.       *)
RecoverFair == (phase = "boot" /\ \A n \in alive : resp[n].ok) ~> (phase = "run")

(* Weak fairness for everything but faults and the scheduler's own choices *)
(* (which operation to start): requests are delivered, dispatchers make    *)
(* progress, statuses are read, operators resend, Absent tasks are added,  *)
(* recovery runs.                                                          *)
Fairness ==
    /\ \A n \in Nodes, e \in Epochs : WF_vars(DMDeliver(n, e))
    /\ \A n \in Nodes : /\ WF_vars(MaintainerStatus(n)) /\ WF_vars(DMPrepared(n)) /\ WF_vars(DMCommit(n))
                        /\ WF_vars(DMAbortMerge(n)) /\ WF_vars(DMJournalCleanup(n))
    /\ \A n \in Nodes, d \in Ids : WF_vars(DMWorking(n, d)) /\ WF_vars(DMSweep(n, d))
    /\ \A d \in Ids : WF_vars(Resend(d)) /\ WF_vars(\E n \in Nodes : ScheduleAbsent(d, n))
    /\ RecoverFair

FairSpec == Spec /\ Fairness

(* Bound for the model: requests per stream and statuses per node.         *)
StreamBound == \A n \in Nodes : Len(stq[n]) <= MaxReq /\ \A e \in Epochs : Len(req[n][e]) <= MaxReq
=============================================================================
