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

RemoveAt(s, i) == [j \in 1..(Len(s) - 1) |-> IF j < i THEN s[j] ELSE s[j + 1]]

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
