------------------------------ MODULE Smoke ------------------------------
(***************************************************************************)
(* A tiny model that proves TLC runs on this machine: one dispatcher       *)
(* manager that accepts bootstrap requests from maintainers of increasing  *)
(* epochs.  With Fence = TRUE it refuses a request older than its owner    *)
(* epoch, so OwnerEpochNeverDecreases holds; with Fence = FALSE the        *)
(* invariant is violated, which the Go tests assert.                       *)
(***************************************************************************)
EXTENDS Naturals

CONSTANTS
    MaxEpoch,   \* the highest maintainer epoch a request can carry
    Fence       \* TRUE: the manager applies the epoch fence

VARIABLES
    owner,      \* the epoch of the manager's current owner
    prev        \* the owner epoch before the last accepted request

vars == <<owner, prev>>

TypeOK == owner \in 0..MaxEpoch /\ prev \in 0..MaxEpoch

Init == owner = 0 /\ prev = 0

(* A bootstrap request of epoch e reaches the manager.  The fence accepts   *)
(* it only if e is not older than the current owner.                       *)
Accept(e) ==
    /\ e # owner
    /\ Fence => e > owner
    /\ prev' = owner
    /\ owner' = e

Next == \E e \in 1..MaxEpoch : Accept(e)

Spec == Init /\ [][Next]_vars

(* The owner epoch never goes back: a stale maintainer cannot take over.   *)
OwnerEpochNeverDecreases == owner >= prev
==========================================================================
