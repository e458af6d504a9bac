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
(*     them); so too when the target is closing already.  Without the     *)
(*     journal (TiCDC 4763) none of this can happen.                       *)
(*  2. Schedule journal (3.3, G4): a journaled Remove whose dispatcher is  *)
(*     still reported resumes its operator exactly: a move in RemoveOrigin *)
(*     towards its own destination (AbortRemoveOrigin if that died), a     *)
(*     split, a remove.  A move or split is not resumed if the id is       *)
(*     active on another node (the journaled copy is already closing).     *)
(*  3. Adoption (3.2, G8): the remaining active reports become Replicating *)
(*     tasks, accepted greedily in a fixed order (Working first, then by   *)
(*     id rank, then node) so no two accepted spans overlap.               *)
(*  4. Cleanup (3.5): every other report that is not closing is removed:   *)
(*     a remove operator where the id is free, else a one-shot Remove.     *)
(*  5. Holes (3.2): an uncovered range gets an Absent task (its own id).   *)
(***************************************************************************)
EXTENDS Operators

R(n) == resp[n]
Rep(n, d) == R(n).disp[d] # "none"
RAct(n, d) == Active(R(n).disp[d]) /\ ~R(n).rem[d]
Pairs == Ids \X alive

(* 1. the merge journal *)
J == {n \in alive : R(n).mergeJ # 0 /\ Rep(n, "m")}
JN == Min(J)
Evidence(n) == PreCommit(R(n).disp["m"]) /\ \A s \in Sources : R(n).disp[s] = "WaitingMerge" /\ ~R(n).rem[s]
MergeCase ==
    IF J = {} THEN "none"
    ELSE LET n == JN st == R(n).disp["m"] IN
         IF BugRecoveryIgnoresCommitPoint THEN "done"
         ELSE IF R(n).rem["m"] THEN "abort"
         ELSE IF st = "Working" THEN "done"
         ELSE IF st = "Initializing" /\ \A s \in Sources : Rep(n, s) THEN "resume"
         ELSE IF st = "Initializing" THEN "done"
         ELSE IF Evidence(n) THEN "resume"
         ELSE "abort"
T1 == CASE MergeCase = "done" -> {<<"m", JN, "Replicating">>}
        [] MergeCase = "resume" -> {<<d, JN, "Scheduling">> : d \in Ids}
        [] OTHER -> {}
Claimed1 == CASE MergeCase = "done" -> {<<d, JN>> : d \in {x \in Ids : Rep(JN, x)}}
              [] MergeCase = "resume" -> {<<d, JN>> : d \in Ids}
              [] OTHER -> {}
Decided1 == {p[1] : p \in Claimed1}
WaitingSources == IF MergeCase = "abort"
                  THEN {<<s, JN>> : s \in {x \in Sources : R(JN).disp[x] = "WaitingMerge" /\ ~R(JN).rem[x]}}
                  ELSE {}
Op1(d) == IF d = "m" THEN MkOp("merge", "Running", JN, NoNode) ELSE MkOp("occupy", "Holding", JN, NoNode)

(* 2. the schedule journal *)
JNodes(d) == {n \in alive : R(n).opJ[d] # NoRec /\ Rep(n, d)}
JD(d) == Min(JNodes(d))
Rec(d) == R(JD(d)).opJ[d]
ActiveElsewhere(d) == \E n \in alive : n # JD(d) /\ RAct(n, d)
Resumed == {d \in Ids \ Decided1 :
               /\ ~BugRecoveryIgnoresJournal
               /\ JNodes(d) # {}
               /\ Rec(d).op = "remove" \/ ~ActiveElsewhere(d)}
Op2(d) == CASE Rec(d).op = "move" ->
                  MkOp("move", IF Rec(d).dest \in alive /\ Rec(d).dest # JD(d) THEN "RemoveOrigin" ELSE "AbortRemoveOrigin",
                       JD(d), Rec(d).dest)
            [] Rec(d).op = "split" -> MkOp("split", "Running", JD(d), NoNode)
            [] OTHER -> MkOp("remove", "Running", JD(d), NoNode)
T2 == {<<d, JD(d), "Scheduling">> : d \in {x \in Resumed : Rec(x).op # "remove"}}
Claimed2 == {<<d, JD(d)>> : d \in Resumed}

(* 3. adoption, greedy in a fixed order *)
Rank(p) == (IF R(p[2]).disp[p[1]] = "Working" THEN 0 ELSE IF R(p[2]).disp[p[1]] = "Initializing" THEN 1 ELSE 2) * 100
           + IdRank[p[1]] * 10 + p[2]
Fits(p, acc) == \A x \in acc : x[1] # p[1] /\ ~Overlap(x[1], p[1])
RECURSIVE Greedy(_, _)
Greedy(C, acc) ==
    IF C = {} THEN acc
    ELSE LET p == CHOOSE x \in C : \A y \in C : Rank(x) <= Rank(y)
         IN Greedy(C \ {p}, IF Fits(p, acc) THEN acc \union {p} ELSE acc)
Acc0 == {<<t[1], t[2]>> : t \in T1 \union T2}
Candidates == ({p \in Pairs : RAct(p[2], p[1])} \union WaitingSources) \ (Claimed1 \union Claimed2)
Acc == Greedy(Candidates, Acc0)
T3 == {<<p[1], p[2], "Replicating">> : p \in Acc \ Acc0}

(* 5. holes *)
Covered(T) == UNION {Keys[t[1]] : t \in T}
T5(T) == IF TableKeys \ Covered(T) = {} THEN {} ELSE {<<IdOf(TableKeys \ Covered(T)), NoNode, "Absent">>}

(* 4. cleanup of reports nobody adopted or claimed *)
Cleanup(keep) == {p \in Pairs : Rep(p[2], p[1]) /\ ~R(p[2]).rem[p[1]]} \ keep

(* The recovered view, given the tasks, the operators found by rules 1-2   *)
(* and the pairs that need cleanup.                                        *)
Recovered(T, op12, CL) ==
    LET hasTask(d) == \E t \in T : t[1] = d
        task(d) == CHOOSE t \in T : t[1] = d
        clNodes(d) == {n \in alive : <<d, n>> \in CL}
        clOp(d) == op12[d] = NoOp /\ ~hasTask(d) /\ clNodes(d) # {}
        opsR == [d \in Ids |-> IF clOp(d) THEN MkOp("remove", "Running", Min(clNodes(d)), NoNode) ELSE op12[d]]
        oneShot(d, n) == <<d, n>> \in CL /\ ~(clOp(d) /\ n = Min(clNodes(d)))
        msg(d, n) == IF Sends(opsR[d]) /\ OpTarget(opsR[d]) = n THEN <<OpReq(d, opsR[d])>>
                     ELSE IF oneShot(d, n) THEN <<RemoveReq(d, "remove", NoNode)>> ELSE <<>>
    IN [sched |-> [d \in Ids |-> IF hasTask(d) THEN task(d)[3] ELSE "none"],
        node |-> [d \in Ids |-> IF hasTask(d) THEN task(d)[2] ELSE NoNode],
        ops |-> opsR,
        out |-> [n \in Nodes |-> msg("m", n) \o msg("a", n) \o msg("b", n)]]

LiveView ==
    LET T123 == T1 \union T2 \union T3
        all == IF BugRecoveryNoHoles THEN T123 ELSE T123 \union T5(T123)
        op12 == [d \in Ids |-> IF d \in Decided1 /\ MergeCase = "resume" THEN Op1(d)
                               ELSE IF d \in Resumed THEN Op2(d) ELSE NoOp]
        cl == Cleanup(Acc \union Claimed1 \union Claimed2)
    IN Recovered(all, op12, cl)

DroppedView == Recovered({}, [d \in Ids |-> NoOp], {p \in Pairs : Rep(p[2], p[1])})

(* Every live node answered: recover.  Seeded bugs:                         *)
(* recovery_resurrects_dropped treats a dropped table as live (TiCDC #4453 *)
(* undone); recovery_no_holes leaves uncovered ranges without a task.      *)
Recover ==
    /\ phase = "boot" /\ \A n \in alive : resp[n].ok
    /\ LET v == IF TableLive \/ BugRecoveryResurrectsDropped THEN LiveView ELSE DroppedView
       IN Commit(v)
    /\ phase' = "run"
    /\ UNCHANGED <<dmVars, stq, epoch, resp, envVars>>
=============================================================================
