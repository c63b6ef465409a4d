/*
 * The Connect path with two extension processes (issue 26, case 7): one sweep execution delivered to both runner
 * instances, every purchase delivered to both, Partner Center as a third actor. Every step the code takes in two
 * statements (two HTTP calls) is two steps here; the function that takes it is named at each step, and
 * docs/execution-protocol-model.md maps them again. model/check runs the protocol as implemented (must hold) and
 * the old protocol's variants (each must give a counterexample).
 *
 * Actors:
 *   Sweep(e)      extension process e runs the sweep execution for one CSP item: looks the item's marker up, then
 *                 creates its purchase (two calls); the answer to POST /requests may be lost.
 *   Fulfil(e, i)  extension process e handles purchase i (the purchase event delivered to both processes).
 *   Connect       commits a POST /requests when it answers it, or later (after the answer, after look-ups), or
 *                 drops it; a request carries Connect's `created` of its arrival (a transaction stamps its rows when
 *                 it starts and is seen when it commits), so a purchase seen late may be the OLDER one. Never a
 *                 commit after Connect's commit deadline (the settle window, CONNECT_SETTLE_SECONDS).
 *   PartnerCenter commits a migration create (now or after its answer was lost), deduplicates creates by
 *                 MS-RequestId, refuses a create when a migration of the subscription is already visible when the
 *                 create arrives (the code then adopts that one), completes the migration.
 *
 * Old protocol (each must give a counterexample):
 *   NO_MARKER        no marker look-up before approval and no younger-duplicate rule (the purchases of one CSP
 *                    item are not recognised as one intention): two purchases approved against one migration
 *   FRESH_REQUEST_ID a fresh MS-RequestId on every create call (also on the repeat after a lost answer): two
 *                    Partner Center migrations for one legacy subscription
 *   NO_SETTLE        the duplicate check before approval reads the marker's purchases at once: an older purchase
 *                    committed late is not seen yet, both are approved
 *
 * Invariants: one_approval (at most one approved purchase per CSP item, i.e. per Partner Center migration),
 * one_migration (at most one Partner Center migration per legacy subscription), and at the end no_orphan (a
 * completed migration has its approved purchase: nobody is left unbilled).
 */

#define NP 2                       /* purchases: at most one per sweep process */
#ifndef MAX_CREATES
#define MAX_CREATES 2              /* Partner Center create calls per handler (a first one, one after a lost answer) */
#endif

mtype = { ABSENT, INFLIGHT, PENDING, APPROVED, FAILED, DROPPED };

/* ---- Connect: the purchases of one CSP item (one marker) ---- */
mtype p[NP];
byte created[NP];                  /* Connect's `created`: the order of arrival */
byte stamp;
byte approved;

/* ---- Partner Center: migrations of the one legacy subscription ---- */
byte migrations;                   /* committed migrations */
bool completed;                    /* the (first) migration completed */
byte inflight_same;                /* creates in flight carrying the deterministic MS-RequestId */
byte inflight_fresh;               /* creates in flight each with an MS-RequestId of their own */
bool same_id_committed;            /* a migration exists for the deterministic MS-RequestId */

#define OPEN(j)      (p[j] == PENDING)
#define OTHER(i)     (1 - (i))
/* standing_duplicate(request, siblings) on what a read of the marker's purchases returns: an approved sibling, or an
 * older open one (the keeper). Invisible (in-flight) purchases are not returned by the read. */
#define STANDING(i)  (p[OTHER(i)] == APPROVED || (OPEN(OTHER(i)) && created[OTHER(i)] < created[i]))
/* Settled: Connect's clock has passed created + commit deadline, so every purchase that arrived before this one is
 * committed (visible) or dropped. */
#define SETTLED(i)   (!(p[OTHER(i)] == INFLIGHT && created[OTHER(i)] < created[i]))

inline check_invariants() {
    assert(approved <= 1);         /* one_approval */
    assert(migrations <= 1)        /* one_migration */
}

active proctype Connect()
{
end_connect:
    do
    :: atomic { p[0] == INFLIGHT -> p[0] = PENDING; printf("connect: commits purchase 0 (created %d)\n", created[0]) }
    :: atomic { p[1] == INFLIGHT -> p[1] = PENDING; printf("connect: commits purchase 1 (created %d)\n", created[1]) }
    :: atomic { p[0] == INFLIGHT -> p[0] = DROPPED }
    :: atomic { p[1] == INFLIGHT -> p[1] = DROPPED }
    od
}

inline pc_commit() {
    migrations++; printf("partner center: commits a migration; %d migration(s) of the subscription\n", migrations);
    check_invariants()
}

active proctype PartnerCenter()
{
end_pc:
    do
    :: atomic { inflight_same > 0 -> inflight_same--;
                if :: !same_id_committed -> same_id_committed = true; pc_commit()
                   :: else -> printf("partner center: MS-RequestId seen, answers the same migration\n") fi }
    :: atomic { inflight_fresh > 0 -> inflight_fresh--; pc_commit() }
    :: atomic { inflight_same > 0 -> inflight_same-- }        /* a create lost before Partner Center kept it */
    :: atomic { inflight_fresh > 0 -> inflight_fresh-- }
    :: atomic { migrations > 0 && !completed -> completed = true; printf("partner center: the migration completes\n") }
    od
}

/* ---------------------------------------------------------------------------------------------------------------
 * The sweep (m365move/connect/sweep.py _sweep_page, request_creation.create_all_once) in process e.
 * ------------------------------------------------------------------------------------------------------------- */
proctype Sweep(byte e)
{
    bool found; bool fail_one; byte younger;
    /* _sweep_page: queries.migration_and_cancel_requests reads the page's requests (the marker's purchases);
     * _purchases_by_marker fails the younger open duplicates it sees (a second call per duplicate). */
    atomic {
        found = (OPEN(0) || OPEN(1) || p[0] == APPROVED || p[1] == APPROVED);
#ifndef NO_MARKER
        fail_one = OPEN(0) && OPEN(1);
        younger = (created[0] > created[1] -> 0 : 1)
#endif
    }
    if
    :: fail_one -> atomic { if :: OPEN(younger) -> p[younger] = FAILED;
                                  printf("sweep %d: fails the younger duplicate %d\n", e, younger)
                               :: else -> skip fi }    /* fail_asset_request; RequestNotPending when it moved on */
    :: else -> skip
    fi;
    /* create_all_once: one look-up under the in-process source locks (another process is not held by them) */
    atomic { found = found || OPEN(0) || OPEN(1) || p[0] == APPROVED || p[1] == APPROVED }
    if :: found -> goto done :: else -> skip fi;
    /* create_request: POST /requests arrives at Connect (stamped `created`) */
    atomic { stamp++; created[e] = stamp; p[e] = INFLIGHT; printf("sweep %d: creates purchase %d\n", e, e) }
    if
    :: atomic { p[e] == INFLIGHT -> p[e] = PENDING; printf("sweep %d: purchase %d created and answered\n", e, e) }
    :: printf("sweep %d: the answer to the create is lost\n", e)
       /* _Lost: Settle.wait, then one look-up that only counts the purchase as created; never a second POST in
        * this execution (the next execution's look-up is the other sweep's, here) */
    fi;
done:
    skip
}

/* ---------------------------------------------------------------------------------------------------------------
 * The fulfilment of purchase i in process e (m365move/connect/purchase_fulfilment.py fulfil_purchase).
 * ------------------------------------------------------------------------------------------------------------- */
proctype Fulfil(byte e; byte i)
{
    bool dup; bool have; byte creates;
end_wait:
    atomic { OPEN(i) -> skip }     /* the purchase event reaches this process once the purchase is committed */
#ifndef NO_MARKER
    /* fulfil_purchase → _duplicate_of, before the first Partner Center call, unless an earlier delivery already
     * stored the migration id on the request (then there is no first check): marker_purchases (one read) ... */
    if :: skip -> goto find :: skip fi;
    atomic { dup = STANDING(i) }
    /* ... then fail_asset_request (a second call) */
    if :: dup -> dup = false; atomic { if :: OPEN(i) -> p[i] = FAILED; printf("process %d: fails purchase %d (duplicate)\n", e, i)
                             :: else -> skip fi }; goto done
       :: else -> skip fi;
#endif
find:
    /* _advance: pc.find_migrations(customer) (one read) */
    atomic { have = (migrations > 0) }
    if
    :: have -> have = false; goto poll
    :: else -> skip
    fi;
    /* pc.validate, then pc.create_migration with MS-RequestId = migration_request_id(tenant, subscription, failed):
     * Partner Center refuses it when a migration is visible at its arrival (MigrationRejected → _existing_migration) */
    if :: creates >= MAX_CREATES -> goto poll :: else -> creates++ fi;   /* bounded here; the code keeps rescheduling */
    atomic {
        if
        :: migrations > 0 -> printf("process %d: create refused, adopts the existing migration\n", e); goto poll
        :: else ->
#ifdef FRESH_REQUEST_ID
            inflight_fresh++;
#else
            inflight_same++;
#endif
            printf("process %d: creates a migration for purchase %d\n", e, i)
        fi
    }
    /* the answer: committed and answered, or lost (PartnerCenterClient._send repeats with the same MS-RequestId;
     * a task that ends instead is redelivered and reads again: both are "find" again here) */
    if
#ifdef FRESH_REQUEST_ID
    :: atomic { inflight_fresh > 0 -> inflight_fresh--; pc_commit() }
#else
    :: atomic { inflight_same > 0 -> inflight_same--;
                if :: !same_id_committed -> same_id_committed = true; pc_commit() :: else -> skip fi }
#endif
    :: printf("process %d: the create's answer is lost\n", e); goto find
    fi;
poll:
    /* later deliveries (reschedule, migration_poll_seconds): pc.get_migration until completed */
end_poll:
    atomic { completed -> skip }
#ifndef NO_SETTLE
    /* update_asset_request_params answers Connect's `updated`; the marker's purchases prove "no older one" only
     * once updated - created has passed the commit deadline (CONNECT_SETTLE_SECONDS), else reschedule. */
end_settle:
    atomic { (SETTLED(i) || !OPEN(i)) -> skip }
#endif
#ifndef NO_MARKER
    /* _duplicate_of again, right before approving: marker_purchases (one read) ... */
    atomic { dup = STANDING(i);
             if :: !dup -> printf("process %d: sees no older nor approved purchase of the item than %d\n", e, i)
                :: else -> skip fi }
    if :: dup -> dup = false; atomic { if :: OPEN(i) -> p[i] = FAILED; printf("process %d: fails purchase %d (duplicate)\n", e, i)
                             :: else -> skip fi }; goto done
       :: else -> skip fi;
#endif
    /* ... then approve_asset_request (another call; Connect refuses it when the request moved on) */
    atomic {
        if
        :: OPEN(i) -> p[i] = APPROVED; approved++;
           printf("process %d: approves purchase %d; %d approved purchase(s) for the item\n", e, i, approved);
           check_invariants()
        :: else -> skip
        fi
    }
done:
    skip
}

/* At the end (nothing can move any more): a completed migration has its approved purchase. */
active proctype Judge()
{
    timeout -> assert(!completed || approved == 1)   /* no_orphan */
}

init
{
    p[0] = ABSENT; p[1] = ABSENT;
    atomic {
        run Sweep(0); run Sweep(1);
        run Fulfil(0, 0); run Fulfil(1, 0); run Fulfil(0, 1)
#ifdef EVERY_DELIVERY
        ; run Fulfil(1, 1)
#endif
    }
}
