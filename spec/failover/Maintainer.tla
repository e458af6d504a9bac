----------------------------- MODULE Maintainer -----------------------------
(***************************************************************************)
(* The maintainer: its scheduler (which starts operators), its status      *)
(* handling (operators' Check and the post-bootstrap reconciliation of     *)
(* domain.md 3.6), the resends that survive lost requests, DROP TABLE, and *)
(* its crash.  Recovery after the crash is in Recovery.tla.                *)
(***************************************************************************)
EXTENDS Operators

MaintainerRunning == phase = "run"
(* A merge's sources share one node; any of them names it.                 *)
AnySource == CHOOSE s \in Sources : TRUE
Free(d) == ops[d] = NoOp
UseBudget == budget' = budget - 1

(* The basic scheduler adds an Absent task on a live node: an add          *)
(* operator, the task Scheduling on n, Create(add) to n.  Seeded bug       *)
(* add_no_bind forgets to bind the task to n (BindSpanToNode).             *)
ScheduleAbsent(d, n) ==
    /\ MaintainerRunning /\ n \in alive /\ sched[d] = "Absent" /\ Free(d)
    /\ LET bound == IF BugAddNoBind THEN NoNode ELSE n IN
       Commit(EmitOpRequest(SetOp(SetTask(View, d, "Scheduling", bound), d, NewOp("add", "Running", NoNode, n)), d))
    /\ UNCHANGED <<dmVars, stq, epoch, phase, resp, envVars>>

(* The scheduler moves d from its node to n (domain.md 1.3): Remove(move,  *)
(* dest n) to the origin; the destination is created only once the origin  *)
(* stopped.  Seeded bug move_dest_before_origin_stopped creates it at once.*)
StartMove(d, n) ==
    /\ MaintainerRunning /\ "move" \in OpKinds /\ budget > 0
    /\ n \in alive /\ sched[d] = "Replicating" /\ Free(d) /\ node[d] # n
    /\ LET v == EmitOpRequest(SetOp(SetTask(View, d, "Scheduling", node[d]), d, NewOp("move", "RemoveOrigin", node[d], n)), d)
       IN Commit(IF BugMoveDestBeforeOriginStopped THEN Emit(v, n, CreateReq(d, "move", n)) ELSE v)
    /\ UseBudget
    /\ UNCHANGED <<dmVars, stq, epoch, phase, resp, alive, dropEpoch, faults>>

(* The scheduler splits "m" into its parts (SplitParts: "a" and "b")      *)
(* (domain.md 1.4): Remove(split) to its node; the parts are added once it *)
(* stopped.                                                                *)
StartSplit ==
    /\ MaintainerRunning /\ "split" \in OpKinds /\ budget > 0
    /\ sched["m"] = "Replicating" /\ Free("m")
    /\ \A s \in SplitParts("m") : sched[s] = "none" /\ Free(s)
    /\ Commit(EmitOpRequest(SetOp(SetTask(View, "m", "Scheduling", node["m"]), "m", NewOp("split", "Running", node["m"], NoNode)), "m"))
    /\ UseBudget
    /\ UNCHANGED <<dmVars, stq, epoch, phase, resp, alive, dropEpoch, faults>>

(* The scheduler merges the sources ("a" and "b") on their node into "m"  *)
(* (domain.md 1.5): occupy every source, add "m" Scheduling there, send    *)
(* the merge request.                                                      *)
(* Seeded bug merge_no_occupy leaves the sources without occupy operators.*)
StartMerge ==
    /\ MaintainerRunning /\ "merge" \in OpKinds /\ budget > 0
    /\ \A s \in Sources : sched[s] = "Replicating" /\ Free(s) /\ node[s] = node[AnySource]
    /\ sched["m"] = "none" /\ Free("m")
    /\ LET n == node[AnySource]
           v0 == SetTasks(View, MergeMembers, "Scheduling", n)
           v1 == IF BugMergeNoOccupy THEN v0 ELSE SetOps(v0, Sources, NewOp("occupy", "Holding", n, NoNode))
       IN Commit(EmitOpRequest(SetOp(v1, "m", NewOp("merge", "Running", n, NoNode)), "m"))
    /\ UseBudget
    /\ UNCHANGED <<dmVars, stq, epoch, phase, resp, alive, dropEpoch, faults>>

(* DROP TABLE processed by the maintainer (domain.md 0.2): every task bound *)
(* to a node gets a remove operator that replaces its operator and sends   *)
(* its Remove, then every task of the table is deleted (removes already    *)
(* running without a task, recovery's cleanups, are kept as they are).     *)
(* Seeded bug drop_keeps_operators leaves running operators in place.      *)
DropTable ==
    /\ MaintainerRunning /\ "drop" \in OpKinds /\ budget > 0 /\ TableLive
    /\ LET bound == {d \in Ids : node[d] # NoNode}
           v0 == [View EXCEPT !.ops = [d \in Ids |-> IF d \in bound /\ BugDropKeepsOperators /\ ops[d] # NoOp THEN ops[d]
                                                    ELSE IF d \in bound THEN NewOp("remove", "Running", node[d], NoNode)
                                                    ELSE IF ops[d].type = "remove" THEN ops[d] ELSE NoOp]]
           v1 == EmitInOrder(v0, bound, 1)
       IN Commit([v1 EXCEPT !.sched = [d \in Ids |-> "none"], !.node = [d \in Ids |-> NoNode]])
    /\ dropEpoch' = epoch
    /\ UseBudget
    /\ UNCHANGED <<dmVars, stq, epoch, phase, resp, alive, faults>>

(* An operator's current request goes out again, unless a copy of it is   *)
(* still in flight.  Seeded bug no_resend never resends, so one lost       *)
(* request leaves its operator hanging (L1).  Real maintainers resend on a *)
(* timer (LogCheck.tla takes this step as it is); the model's Resend is    *)
(* this step with the guard of AnswerPending.                              *)
ResendRequest(d) ==
    /\ MaintainerRunning /\ SendsRequests(ops[d]) /\ ~BugNoResend
    /\ LET n == OpTarget(ops[d]) m == OpReq(d, ops[d]) IN
       /\ n \in alive /\ ~InFlight(n, m)
       /\ Send(n, m)
    /\ UNCHANGED <<dmVars, stq, maintainerVars, envVars>>

(* The node d's operator talks to has a status queued for the current     *)
(* maintainer: the answer to d's request may be on its way.  Any status    *)
(* counts, not only d's: the model names dispatchers by span, so it cannot *)
(* tell an answer from a late status of an earlier dispatcher of the span. *)
AnswerPending(d) ==
    LET n == OpTarget(ops[d]) IN
    n \in Nodes /\ \E i \in 1..Len(stq[n]) : StatusReaches(stq[n][i])

(* An operator resends its request when neither the request nor an answer  *)
(* to it is pending (every operator throttles its resends; a timer that    *)
(* fires earlier only adds a duplicate, which DMDeliverDup models).  This  *)
(* keeps every world finite: without the answer guard, a Remove resent     *)
(* for a dispatcher already gone is answered Stopped again and again, and  *)
(* two such removes on one node grow the status stream without bound.     *)
Resend(d) == SendsRequests(ops[d]) /\ ~AnswerPending(d) /\ ResendRequest(d)

(* The positions of node n's queued statuses the maintainer may read next: *)
(* the head of the stream, or any with StatusOrder = "any".                *)
StatusPositions(n) ==
    IF StatusOrder = AnyOrder THEN 1..Len(stq[n]) ELSE IF stq[n] = <<>> THEN {} ELSE {1}

(* The maintainer reads node n's i-th queued status.                       *)
TakeStatus(n, i) ==
    /\ stq' = [stq EXCEPT ![n] = RemoveAt(@, i)]
    /\ LET s == stq[n][i]
           d == s.id
       IN
       IF ~StatusReaches(s) THEN UNCHANGED <<sched, node, ops, req>>
       ELSE IF ~Free(d) THEN Commit(Check(View, n, d, s.st))
       ELSE IF sched[d] = "none" THEN
            IF s.st = "Working" THEN Send(n, RemoveReq(d, "remove", NoNode)) /\ UNCHANGED <<sched, node, ops>>
            ELSE UNCHANGED <<sched, node, ops, req>>
       ELSE IF node[d] = n /\ s.st = "Stopped" THEN
            Commit(IF CoveredByOther(View, d) THEN DeleteTask(View, d) ELSE MarkAbsent(View, d))
       ELSE UNCHANGED <<sched, node, ops, req>>

(* The next status report from node n reaches the maintainer.  A status   *)
(* sent to another maintainer epoch is dropped.  An operator for the id    *)
(* checks it; otherwise 3.6: an orphan reporting Working is removed; a     *)
(* terminal status of a task bound to n deletes the task if a Replicating  *)
(* task covers it (C8), else marks it Absent; anything else is ignored     *)
(* (statuses for a span without task never resurrect it: G9).             *)
MaintainerStatus(n) ==
    /\ MaintainerRunning /\ \E i \in StatusPositions(n) : TakeStatus(n, i)
    /\ UNCHANGED <<dmVars, epoch, phase, resp, envVars>>

(* The maintainer dies.  The next one takes epoch + 1, starts empty, and   *)
(* sends a bootstrap request to every live node on its own streams.        *)
(* Statuses addressed to the dead maintainer are gone with it.            *)
MaintainerCrash ==
    /\ epoch < MaxEpoch
    /\ epoch' = epoch + 1 /\ phase' = "boot" /\ resp' = [n \in Nodes |-> NoResp]
    /\ sched' = [d \in Ids |-> "none"] /\ node' = [d \in Ids |-> NoNode] /\ ops' = [d \in Ids |-> NoOp]
    /\ stq' = [n \in Nodes |-> <<>>]
    /\ req' = [n \in Nodes |-> [req[n] EXCEPT ![epoch + 1] = IF n \in alive THEN <<BootstrapReq>> ELSE <<>>]]
    /\ UNCHANGED <<dmVars, envVars>>
=============================================================================
