----------------------------- MODULE Operators -----------------------------
(***************************************************************************)
(* The maintainer's operators as explicit state machines (package          *)
(* operators; domain.md section 1), written as functions on a "view" of    *)
(* the maintainer: its tasks, its operators and the requests it is about   *)
(* to send.  Every maintainer action computes a new view and commits it    *)
(* with Commit, so one transition of one operator can change several       *)
(* tasks (a merge deletes its sources) and send requests, atomically.      *)
(*                                                                         *)
(* Operator records: [type, st, origin, dest] with the FSM state names of  *)
(* package operators: add Running (dest); remove Running (origin); move    *)
(* RemoveOrigin -> AddDest, or AbortRemoveOrigin when the destination      *)
(* died (origin, dest); split Running (origin); merge Running (origin, the *)
(* node of both sources) holding an occupy per source.  A finished         *)
(* operator applies its finish effect and is deleted in the same step.    *)
(***************************************************************************)
EXTENDS Network

View == [sched |-> sched, node |-> node, ops |-> ops, out |-> NoRequests]

SetTask(v, d, s, n) == [v EXCEPT !.sched[d] = s, !.node[d] = n]
DeleteTask(v, d) == SetTask(v, d, "none", NoNode)
MarkAbsent(v, d) == SetTask(v, d, "Absent", NoNode)
SetOp(v, d, o) == [v EXCEPT !.ops[d] = o]
(* The same for every id in a set S at once.                               *)
SetTasks(v, S, s, n) == [v EXCEPT !.sched = [d \in Ids |-> IF d \in S THEN s ELSE @[d]],
                                  !.node = [d \in Ids |-> IF d \in S THEN n ELSE @[d]]]
DeleteTasks(v, S) == SetTasks(v, S, "none", NoNode)
MarkAllAbsent(v, S) == SetTasks(v, S, "Absent", NoNode)
SetOps(v, S, o) == [v EXCEPT !.ops = [d \in Ids |-> IF d \in S THEN o ELSE @[d]]]
Emit(v, n, m) == [v EXCEPT !.out[n] = Append(@, m)]

NewOp(t, s, o, d) == [type |-> t, st |-> s, origin |-> o, dest |-> d]

(* The node an operator's current request goes to, and the request: the   *)
(* record it carries is what the dispatcher manager journals.             *)
OpTarget(o) == IF o.type = "add" \/ (o.type = "move" /\ o.st = "AddDest") THEN o.dest ELSE o.origin
OpReq(d, o) ==
    CASE o.type = "add" -> CreateReq(d, "add", NoNode)
      [] o.type = "move" /\ o.st = "AddDest" -> CreateReq(d, "move", o.dest)
      [] o.type = "move" -> RemoveReq(d, "move", o.dest)
      [] o.type = "split" -> RemoveReq(d, "split", NoNode)
      [] o.type = "remove" -> RemoveReq(d, "remove", NoNode)
      [] o.type = "merge" -> MergeReq
SendsRequests(o) == o.type \notin {"", "occupy"}
EmitOpRequest(v, d) == IF SendsRequests(v.ops[d]) THEN Emit(v, OpTarget(v.ops[d]), OpReq(d, v.ops[d])) ELSE v
(* EmitOpRequest for every id of S, from the i-th of IdOrder on, in order. *)
RECURSIVE EmitInOrder(_, _, _)
EmitInOrder(v, S, i) ==
    IF i > Len(IdOrder) THEN v
    ELSE EmitInOrder(IF IdOrder[i] \in S THEN EmitOpRequest(v, IdOrder[i]) ELSE v, S, i + 1)

(* The ids of the largest key intervals outside keys ks: one per separate  *)
(* hole (every interval is an id).                                         *)
HolesOf(ks) ==
    LET inHole(d) == Keys[d] \cap ks = {}
    IN {d \in Ids : inHole(d) /\ ~\E e \in Ids : e # d /\ inHole(e) /\ Keys[d] \subseteq Keys[e]}
(* Coverage repair (domain.md C10): every key range no task of v covers    *)
(* gets an Absent task.                                                    *)
RepairCoverage(v) ==
    LET holes == HolesOf(UNION {Keys[d] : d \in {x \in Ids : v.sched[x] # "none"}})
    IN [v EXCEPT !.sched = [d \in Ids |-> IF d \in holes THEN "Absent" ELSE @[d]]]
(* A remove is done.  A remove owns no task, except recovery's temporary   *)
(* coverage (a dispatcher that may serve its keys until it has stopped):  *)
(* a Replicating task on the remove's own node.  That task is deleted and  *)
(* the table's coverage repaired.  (A task of the same id elsewhere is     *)
(* another copy's; an Absent one is a hole's, which the library names      *)
(* apart.  Both stay.)                                                     *)
FinishRemove(v, d) ==
    IF v.sched[d] = "Replicating" /\ v.node[d] = v.ops[d].origin
    THEN RepairCoverage(SetOp(DeleteTask(v, d), d, NoOp))
    ELSE SetOp(v, d, NoOp)

(* A Replicating task other than d covers d's span (a merged target).      *)
CoveredByOther(v, d) == \E o \in Ids : o # d /\ v.sched[o] = "Replicating" /\ Keys[d] \subseteq Keys[o]

(***************************************************************************)
(* Check: operator d handles status st of dispatcher d from node n.        *)
(***************************************************************************)
Check(v, n, d, st) ==
    LET o == v.ops[d] IN
    CASE o.type = "add" ->
            \* Running --DestWorking--> DoneOK: the task replicates on dest.
            IF n = o.dest /\ st = "Working"
            THEN SetOp(SetTask(v, d, "Replicating", n), d, NoOp) ELSE v
      [] o.type = "remove" ->
            \* Running --NodeStopped--> Done.
            IF n = o.origin /\ st = "Stopped" THEN FinishRemove(v, d) ELSE v
      [] o.type = "move" /\ o.st = "RemoveOrigin" ->
            \* RemoveOrigin --OriginStopped--> AddDest: bind to dest, create it.
            IF n = o.origin /\ (st = "Stopped" \/ BugMoveAdvancesOnAnyStatus)
            THEN EmitOpRequest(SetOp(SetTask(v, d, "Scheduling", o.dest), d, [o EXCEPT !.st = "AddDest"]), d)
            ELSE v
      [] o.type = "move" /\ o.st = "AbortRemoveOrigin" ->
            \* AbortRemoveOrigin --OriginStopped--> Aborted: the span goes Absent.
            IF n = o.origin /\ st = "Stopped" THEN SetOp(MarkAbsent(v, d), d, NoOp) ELSE v
      [] o.type = "move" /\ o.st = "AddDest" ->
            \* AddDest --DestWorking--> DoneSuccess.
            IF n = o.dest /\ st = "Working"
            THEN SetOp(SetTask(v, d, "Replicating", n), d, NoOp) ELSE v
      [] o.type = "split" ->
            \* Running --OriginStopped--> Done: the parts replace the whole,
            \* Absent, for the basic scheduler to add.
            IF n = o.origin /\ st = "Stopped"
            THEN LET v1 == SetOp(DeleteTask(v, d), d, NoOp)
                 IN MarkAllAbsent(v1, {x \in SplitParts(d) : v1.sched[x] = "none"})
            ELSE v
      [] o.type = "merge" ->
            \* Running --MergedWorking--> DoneOK: sources deleted, merged replicates,
            \* occupies released.
            IF n = o.origin /\ st = "Working"
            THEN SetOps(SetTask(DeleteTasks(v, Sources), "m", "Replicating", n), MergeMembers, NoOp)
            ELSE v
      [] OTHER -> v   \* occupy: statuses of merge sources change nothing

(***************************************************************************)
(* OnNodeRemove: node n died (domain.md 0.2, 1.x).  Tasks on n without an  *)
(* operator go Absent; then each operator reacts.  The merge ("m") goes    *)
(* first, so its occupies are released before the sources are looked at.   *)
(***************************************************************************)
OpOnNodeRemove(v, d, n) ==
    LET o == v.ops[d] IN
    CASE o.type = "add" /\ o.dest = n -> SetOp(MarkAbsent(v, d), d, NoOp)
      [] o.type = "remove" /\ o.origin = n -> FinishRemove(v, d)
      [] o.type = "move" /\ o.st = "RemoveOrigin" /\ o.origin = n ->
            EmitOpRequest(SetOp(SetTask(v, d, "Scheduling", o.dest), d, [o EXCEPT !.st = "AddDest"]), d)
      [] o.type = "move" /\ o.st = "RemoveOrigin" /\ o.dest = n ->
            \* Seeded bug move_abort_absent_early gives up the span before its origin stopped.
            IF BugMoveAbortAbsentEarly THEN SetOp(MarkAbsent(v, d), d, NoOp)
            ELSE SetOp(v, d, [o EXCEPT !.st = "AbortRemoveOrigin"])
      [] o.type = "move" /\ o.st = "AbortRemoveOrigin" /\ o.origin = n -> SetOp(MarkAbsent(v, d), d, NoOp)
      [] o.type = "move" /\ o.st = "AddDest" /\ o.dest = n -> SetOp(MarkAbsent(v, d), d, NoOp)
      [] o.type = "split" /\ o.origin = n ->
            \* Seeded bug split_abort_keeps_scheduling forgets to mark the span Absent.
            SetOp(IF BugSplitAbortKeepsScheduling THEN v ELSE MarkAbsent(v, d), d, NoOp)
      [] o.type = "merge" /\ o.origin = n ->
            SetOps(DeleteTask(MarkAllAbsent(v, Sources), "m"), MergeMembers, NoOp)
      [] o.type = "occupy" /\ o.origin = n -> SetOp(MarkAbsent(v, d), d, NoOp)
      [] OTHER -> v

(* OpOnNodeRemove for every id from the i-th of IdOrder on, in order.     *)
RECURSIVE OpsOnNodeRemove(_, _, _)
OpsOnNodeRemove(v, n, i) ==
    IF i > Len(IdOrder) THEN v ELSE OpsOnNodeRemove(OpOnNodeRemove(v, IdOrder[i], n), n, i + 1)
OnNodeRemove(v, n) ==
    LET v0 == MarkAllAbsent(v, {d \in Ids : v.node[d] = n /\ v.ops[d] = NoOp})
    IN OpsOnNodeRemove(v0, n, 1)

(* Commit a view: the maintainer's new tasks and operators, and its       *)
(* requests appended to the current streams.                               *)
Commit(v) == sched' = v.sched /\ node' = v.node /\ ops' = v.ops /\ Post(v.out)
=============================================================================
