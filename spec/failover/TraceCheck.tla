----------------------------- MODULE TraceCheck -----------------------------
(***************************************************************************)
(* Trace validation: is a run of the Go simulator a behaviour of this     *)
(* spec?  Package conformance records simulator runs                       *)
(* as abstract states (docs/abstract-state.md), one per step, and writes   *)
(* them as the constant Traces of a generated module TraceData.  This      *)
(* spec walks a cursor along one trace: every step must be a Next step of  *)
(* Failover whose result is exactly the trace's next state (or, when the   *)
(* simulator's step changed nothing abstract, a stutter).  A trace that is *)
(* not a behaviour leaves its cursor stuck: TLC finds no successor and the *)
(* trace never reaches its end.  Reaching the end prints <<"done", t>>.     *)
(***************************************************************************)
EXTENDS Failover, TraceData, TLC

VARIABLES
    t,       \* which trace of Traces this behaviour follows
    cursor   \* the index of the trace state the spec state equals

(* The spec's state equals abstract state s, variable by variable.         *)
Is(s) ==
    /\ alive = s.alive /\ disp = s.disp /\ rem = s.rem /\ opJ = s.opJ
    /\ mergeJ = s.mergeJ /\ owner = s.owner /\ req = s.req /\ stq = s.stq
    /\ epoch = s.epoch /\ phase = s.phase /\ resp = s.resp /\ sched = s.sched
    /\ node = s.node /\ ops = s.ops /\ dropEpoch = s.dropEpoch
    /\ budget = s.budget /\ faults = s.faults

(* The same, for the next state.                                          *)
IsNext(s) ==
    /\ alive' = s.alive /\ disp' = s.disp /\ rem' = s.rem /\ opJ' = s.opJ
    /\ mergeJ' = s.mergeJ /\ owner' = s.owner /\ req' = s.req /\ stq' = s.stq
    /\ epoch' = s.epoch /\ phase' = s.phase /\ resp' = s.resp /\ sched' = s.sched
    /\ node' = s.node /\ ops' = s.ops /\ dropEpoch' = s.dropEpoch
    /\ budget' = s.budget /\ faults' = s.faults

(* Start at the first state of some trace, which must be an initial state. *)
TraceInit ==
    /\ t \in 1..Len(Traces)
    /\ cursor = 1
    /\ Init
    /\ Is(Traces[t][1])

(* Advance the cursor by one Next step (or an invisible stutter) that      *)
(* lands exactly on the trace's next state.                                *)
TraceNext ==
    /\ cursor < Len(Traces[t])
    /\ t' = t
    /\ cursor' = cursor + 1
    /\ \/ Next
       \/ UNCHANGED vars
    /\ IsNext(Traces[t][cursor + 1])

(* A constraint that is always true: it reports each trace that reached   *)
(* its end.                                                                *)
Done == cursor < Len(Traces[t]) \/ PrintT(<<"done", t>>)
=============================================================================
