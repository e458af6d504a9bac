------------------------------ MODULE LogCheck ------------------------------
(***************************************************************************)
(* Log validation: is a run of real processes (opfsm cluster chaos --spec)  *)
(* a behaviour of this spec?  Package conformance merges the processes'    *)
(* JSON-lines logs in an order consistent with their messages, keeps the   *)
(* protocol steps, maps each onto the spec's world (ids by span, nodes by   *)
(* name, epochs renumbered in election order) and writes them as the       *)
(* sequence Log of a generated module LogData.  Each entry names one spec  *)
(* action with its parameters and fixes only what its process logged:     *)
(* a node's step fixes that node's variables, a maintainer's step the      *)
(* maintainer's; a delivery fixes the request taken, a status the status   *)
(* taken.  TLC finds the rest (the messages in flight, the other           *)
(* processes' variables).  A log that is not a behaviour leaves the cursor *)
(* stuck at the first entry no step can match; the largest cursor reached  *)
(* is printed as <<"reached", k>>, the end as <<"done">>.                 *)
(*                                                                         *)
(* Relax (from LogData) is 0, or the entry a second run matches without   *)
(* Fixed, to print what the spec allowed there: <<"allowed", node row,     *)
(* maintainer variables>>.                                                *)
(*                                                                         *)
(* Entry fields: kind (the action), n (node), e (epoch), d (id), dest      *)
(* (node), msg (the request a delivery takes), st (the status a            *)
(* MaintainerStatus takes), fixN / row (the node's variables after the     *)
(* step), fixM / mv (the maintainer's).                                    *)
(***************************************************************************)
EXTENDS Failover, LogData, TLC

VARIABLES
    cursor,  \* the index of the next entry of Log to match
    taken    \* taken[n]: the last status the maintainer took from node n, or NoStatus

ASSUME TLCSet(1, 0)

(* What real processes do beyond the model's actions; both only add       *)
(* messages the model already handles.                                    *)

(* A node's clock re-reports every Working dispatcher that is not closing  *)
(* (the heartbeat that makes a lost status harmless), one status per step, *)
(* tagged like every report with the epoch the node obeys.                *)
Heartbeat(n, d) ==
    /\ n \in alive /\ disp[n][d] = "Working" /\ ~rem[n][d]
    /\ stq' = [stq EXCEPT ![n] = Append(@, [id |-> d, st |-> "Working", epoch |-> owner[n]])]
    /\ UNCHANGED <<dmVars, req, maintainerVars, envVars>>

(* A booting maintainer asks a live node for its bootstrap answer again   *)
(* (its answer may be on the way: the model delivers answers at once).    *)
AskBootstrap(n) ==
    /\ phase = "boot" /\ n \in alive
    /\ Send(n, BootstrapReq)
    /\ UNCHANGED <<dmVars, stq, maintainerVars, envVars>>

(* The spec action an entry names, with the message it takes.  A node's    *)
(* start changes nothing: its entry checks the node starts as Init says.   *)
Step(ev) ==
    CASE ev.kind = "NodeStarted" -> UNCHANGED vars
      [] ev.kind = "DMDeliver" ->
            /\ ev.n \in alive /\ req[ev.n][ev.e] # <<>> /\ Head(req[ev.n][ev.e]) = ev.msg
            /\ DMDeliver(ev.n, ev.e)
      [] ev.kind = "DMWorking" -> DMWorking(ev.n, ev.d)
      [] ev.kind = "DMPrepared" -> DMPrepared(ev.n)
      [] ev.kind = "DMCommit" -> DMCommit(ev.n)
      [] ev.kind = "DMAbortMerge" -> DMAbortMerge(ev.n)
      [] ev.kind = "DMSweep" -> DMSweep(ev.n, ev.d)
      [] ev.kind = "DMJournalCleanup" -> DMJournalCleanup(ev.n)
      [] ev.kind = "DMHeartbeat" -> Heartbeat(ev.n, ev.d)
      [] ev.kind = "MaintainerStatus" ->
            /\ stq[ev.n] # <<>> /\ Head(stq[ev.n]) = ev.st
            /\ MaintainerStatus(ev.n)
      [] ev.kind = "MaintainerCrash" -> MaintainerCrash
      [] ev.kind = "Recover" -> Recover
      [] ev.kind = "ScheduleAbsent" -> ScheduleAbsent(ev.d, ev.dest)
      [] ev.kind = "StartMove" -> StartMove(ev.d, ev.dest)
      [] ev.kind = "StartSplit" -> StartSplit
      [] ev.kind = "StartMerge" -> StartMerge
      [] ev.kind = "DropTable" -> DropTable
      [] ev.kind = "Resend" -> ResendRequest(ev.d)
      [] ev.kind = "NodeCrash" -> NodeCrash(ev.n)
      [] ev.kind = "AskBootstrap" -> AskBootstrap(ev.n)
      [] OTHER -> FALSE

(* What the entry's process logged of its own variables after the step.   *)
Fixed(ev) ==
    /\ ev.fixN => /\ disp'[ev.n] = ev.row.disp /\ rem'[ev.n] = ev.row.rem /\ opJ'[ev.n] = ev.row.opJ
                  /\ mergeJ'[ev.n] = ev.row.mergeJ /\ owner'[ev.n] = ev.row.owner
    /\ ev.fixM => /\ epoch' = ev.mv.epoch /\ phase' = ev.mv.phase /\ sched' = ev.mv.sched
                  /\ node' = ev.mv.node /\ ops' = ev.mv.ops

(* Steps no process logs, each allowed only where the next entry needs it: *)
(* a status addressed to a dead maintainer is fenced (no session of its    *)
(* epoch exists to carry it), and the copy of a request still in flight    *)
(* when its operator resends it is lost (a resend means the maintainer     *)
(* heard nothing back).                                                   *)
Unlogged(ev) ==
    \/ /\ ev.kind = "MaintainerStatus"
       /\ stq[ev.n] # <<>> /\ Head(stq[ev.n]).epoch # epoch
       /\ MaintainerStatus(ev.n)
    \/ /\ ev.kind = "Resend" /\ SendsRequests(ops[ev.d])
       /\ LET n == OpTarget(ops[ev.d]) m == OpReq(ev.d, ops[ev.d]) IN
          \E i \in 1..Len(req[n][epoch]) : req[n][epoch][i] = m /\ Lose(n, epoch, i)

(* The model aggregates a status equal to the last one still queued       *)
(* (Report); a real node sends it again (a resent Remove of a dispatcher   *)
(* already gone, a resent Merge of a merge already Working).  The          *)
(* maintainer then takes the twin right after the status it equals: it must *)
(* change nothing.  Allowed only where the model has no such status queued. *)
Twin(ev) ==
    /\ ev.kind = "MaintainerStatus" /\ MaintainerRunning /\ ev.st = taken[ev.n]
    /\ IF stq[ev.n] = <<>> THEN TRUE ELSE Head(stq[ev.n]).epoch = epoch /\ Head(stq[ev.n]) # ev.st
    /\ UNCHANGED vars

(* The status an entry takes, if any.                                      *)
Took(ev) == IF ev.kind = "MaintainerStatus" THEN [taken EXCEPT ![ev.n] = ev.st] ELSE taken

NoStatus == [id |-> "", st |-> "", epoch |-> 0]

LogInit == Init /\ cursor = 1 /\ taken = [n \in Nodes |-> NoStatus]

(* Match the entry at the cursor (its step, or the twin of a status), or    *)
(* take an unlogged step it needs.                                         *)
LogNext ==
    /\ cursor <= Len(Log)
    /\ \/ /\ Step(Log[cursor]) \/ Twin(Log[cursor])
          /\ cursor = Relax \/ Fixed(Log[cursor])
          /\ cursor' = cursor + 1 /\ taken' = Took(Log[cursor])
       \/ Unlogged(Log[cursor]) /\ UNCHANGED <<cursor, taken>>

(* Constraints that are always true: they print how far the log matched.  *)
Reached == cursor <= TLCGet(1) \/ (TLCSet(1, cursor) /\ PrintT(<<"reached", cursor>>))
Done == cursor <= Len(Log) \/ PrintT(<<"done">>)

(* A node's variables and the maintainer's, as entries fix them.           *)
RowOf(n) == IF n \in Nodes THEN [disp |-> disp[n], rem |-> rem[n], opJ |-> opJ[n], mergeJ |-> mergeJ[n], owner |-> owner[n]]
            ELSE "none"
MaintainerView == [epoch |-> epoch, phase |-> phase, sched |-> sched, node |-> node, ops |-> ops]
Allowed == Relax = 0 \/ cursor # Relax + 1 \/ PrintT(<<"allowed", RowOf(Log[Relax].n), MaintainerView>>)
=============================================================================
