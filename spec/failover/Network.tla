------------------------------ MODULE Network ------------------------------
(***************************************************************************)
(* Messages and the network.  Requests travel on one ordered stream per    *)
(* (maintainer epoch, node): req[n][e].  Status reports travel on one      *)
(* ordered stream per node, stq[n], tagged with the epoch of the           *)
(* maintainer the node obeyed when it sent them.  Faults: a request may be *)
(* lost (Lose) or delivered twice (DispatcherManager's DMDeliverDup), both *)
(* bounded; reordering comes from the independent streams of different    *)
(* epochs (a stale maintainer's request can arrive before or after the new *)
(* one's bootstrap).                                                       *)
(***************************************************************************)
EXTENDS Bugs

(* Transport assumptions.  Each is a definition that a config may override *)
(* (CONSTANT StatusRouting <- RoutedToOwner); the defaults are what the    *)
(* library implements and what the CI configs check.  spec/README.md says *)
(* which properties depend on which ("Transport variants").                *)
(* StatusRouting: "epoch", statuses carry the owner epoch of their sender  *)
(* and a maintainer takes only those of its own epoch (maintainer.         *)
(* CheckStatus); "owner", untagged statuses the transport hands to         *)
(* whichever maintainer is current (TiCDC's heartbeats).                   *)
StatusRouting == "epoch"
RoutedToOwner == "owner"
(* StatusOrder: "fifo", one ordered status stream per node (a gRPC         *)
(* stream); "any", the maintainer may read a node's queued statuses in any *)
(* order.                                                                  *)
StatusOrder == "fifo"
AnyOrder == "any"
(* DupTiming: "at_once", a duplicated request is handled twice in a row;   *)
(* "late", its second copy goes to the back of its stream and is handled   *)
(* after the requests sent behind it.                                      *)
DupTiming == "at_once"
LateDup == "late"

(* Status s is one the current maintainer acts on: sent to its epoch, or   *)
(* any, when statuses are routed to the current owner untagged.            *)
StatusReaches(s) == StatusRouting = RoutedToOwner \/ s.epoch = epoch

CreateReq(d, op, dest) == [type |-> "create", id |-> d, op |-> op, dest |-> dest]
RemoveReq(d, op, dest) == [type |-> "remove", id |-> d, op |-> op, dest |-> dest]
MergeReq == [type |-> "merge", id |-> "m", op |-> "merge", dest |-> NoNode]
BootstrapReq == [type |-> "bootstrap", id |-> "m", op |-> "", dest |-> NoNode]

NoRequests == [n \in Nodes |-> <<>>]

(* Append out[n] to the current maintainer's stream to every live node n;  *)
(* streams to a node in `dead` are emptied (the node is gone).             *)
PostTo(out, dead) ==
    req' = [n \in Nodes |-> IF n \in dead THEN [e \in Epochs |-> <<>>]
                            ELSE IF n \in alive THEN [req[n] EXCEPT ![epoch] = @ \o out[n]]
                            ELSE req[n]]
Post(out) == PostTo(out, {})
Send(n, m) == Post([NoRequests EXCEPT ![n] = <<m>>])

(* Node n reports status st of dispatcher d to the maintainer it obeys.    *)
(* Heartbeats aggregate statuses, so a report equal to the last one still  *)
(* queued adds nothing (this also keeps the stream finite).               *)
Report(n, d, st) ==
    LET s == [id |-> d, st |-> st, epoch |-> owner[n]] IN
    stq' = IF stq[n] # <<>> /\ stq[n][Len(stq[n])] = s THEN stq ELSE [stq EXCEPT ![n] = Append(@, s)]

InFlight(n, m) == \E i \in 1..Len(req[n][epoch]) : req[n][epoch][i] = m


(* The network loses the i-th request of stream (n, e).  Bootstrap         *)
(* requests are resent by the maintainer until answered, so losing one     *)
(* only delays; they are not lost in the model.                            *)
Lose(n, e, i) ==
    /\ faults.loss < MaxLoss
    /\ i \in 1..Len(req[n][e]) /\ req[n][e][i].type # "bootstrap"
    /\ req' = [req EXCEPT ![n][e] = RemoveAt(@, i)]
    /\ faults' = [faults EXCEPT !.loss = @ + 1]
    /\ UNCHANGED <<dmVars, stq, maintainerVars, alive, dropEpoch, budget>>
=============================================================================
