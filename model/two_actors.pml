/*
 * Exactly once where two actors or two times meet (issue 26): the steps the code takes in two statements are two
 * steps here. docs/execution-protocol-model.md maps each step to its code; model/check runs every scenario on the
 * protocol as implemented (must hold) and with the old behaviour of each case (must give a counterexample).
 *
 * Scenarios (one per compile, -DSCENARIO=...):
 *   CLAIM    two workers sharing one journal place one key: read, claim (compare-and-set), look-up, fence, socket
 *            write, answer, as separate steps. Any worker may be paused past its lease at any step (its proof goes
 *            stale: LEASE_RUNS_OUT), except between a fence and its socket write, which the worker's monotonic
 *            freshness check bounds to a fraction of the lease. The platform commits a POST when it answers, or
 *            later (after the answer and after a look-up), or drops it; never after its commit deadline.
 *   MODES    a New Subscription and a Switch Plan worker claim one source at once (two connections).
 *   RETRY    two workers; the first order ended in error; each retries it from its own read.
 *   JOURNALS two journals (two workspaces): New Subscription's order ends in error, Switch Plan completes from the
 *            other journal, then New Subscription is resumed.
 *   RACE     two journals (two workspaces) start the same source in the same mode at the same instant: each
 *            re-checks the platform, claims in its own journal, POSTs; Commerce has no conditional create, so two
 *            orders under one key are possible. What the protocol promises here is that they are reported: after
 *            its run each lists the orders by key (exit 6 on a key with two orders). Invariant (at the end):
 *            duplicate_reported.
 *
 * Old behaviours (each reproduces one case of issue 26):
 *   OLD_STALE_CHECK  the holder is judged stale by a SELECT before the claim; the claim compares state/attempt/
 *                    generation only
 *   OLD_FENCE        the fence checks the generation only, not the holder's own lease
 *   HOST_CLOCK       staleness judged on hosts' clocks or a PID seen from another PID namespace: it may say
 *                    "stale" of a live holder
 *   OLD_LOOK_UP      a look-up right after the answer (a one-second settle) proves the order absent
 *   NO_SOURCE_LOCK   the claim's other-mode read and its write are two steps (READ COMMITTED write skew)
 *   BLIND_RETRY      Journal.retry writes without comparing what it read
 *   BLIND_MARK_PLACED Journal.mark_placed writes by key, without comparing the claim it was given (a late answer of
 *                    a taken-over or retried attempt overwrites the row)
 *   NO_RECHECK       the platform is read once at run start, not before each placement
 *   NO_ORDERS_BY_KEY (RACE) no listing of the orders by key after the run
 *   PROMPT_COMMITS   (an assumption, not a behaviour) the platform commits each POST when it answers it: no
 *                    uncertain answer, no drop; a POST is still in flight between the socket write and the answer
 *
 * Invariants: one_order_per_key (at most one order per poNumber on the platform), one_target (never two live
 * targets for one source: two attempts of one key, or both modes); at the end (CLAIM, RETRY) no_order_forgotten:
 * every live order is the one the journal names, or is under the intent's current key while it is planned or
 * placing (a resume looks it up).
 */

#ifndef SCENARIO
#define SCENARIO CLAIM
#endif
#define CLAIM 1
#define MODES 2
#define RETRY 3
#define JOURNALS 4
#define RACE 5

#define NOBODY 255
#define NATT 3                     /* attempts 1 and 2 (index 0 unused) */
#ifndef MAX_CLAIMS
#define MAX_CLAIMS 3
#endif

mtype = { PLANNED, PLACING, PLACED, FINAL };
mtype = { NONE, PROCESSING, COMPLETED, ERROR };

/* ---- the platform: per poNumber (key K under an attempt; the other mode's key X) ---- */
byte orders[NATT];                 /* orders committed under K-A<n> */
byte inflight[NATT];               /* POSTs sent under K-A<n>, not yet committed nor dropped */
byte windows[NATT];                /* fences passed whose POST has not left yet (bounded by the fence's window) */
mtype pstatus[NATT];
byte orders_x;                     /* the other mode's order */

/* ---- the journal (one intent row per key; two rows of K in JOURNALS: one per journal) ---- */
mtype state = PLANNED;
byte owner = NOBODY;
byte gen;
byte attempt = 1;
bool fresh;                        /* the holder's last proof is younger than its lease (database clock) */
mtype jstatus = NONE;
byte jorder;                       /* the attempt whose order the row names (platform_order_id), 0: none */
mtype state_x = PLANNED;           /* the other mode's intent for the source (MODES) */

byte done_workers;

#define LIVE_TARGETS ((orders[1] > 0 && pstatus[1] != ERROR) + (orders[2] > 0 && pstatus[2] != ERROR) + (orders_x > 0))

inline check_invariants() {
#if SCENARIO != RACE
    assert(orders[1] <= 1 && orders[2] <= 1);   /* one_order_per_key */
    assert(LIVE_TARGETS <= 1)                   /* one_target */
#else
    skip                                        /* not preventable across journals: reported (duplicate_reported) */
#endif
}

/* The platform: commits a POST (answered already or not), drops one, ends an order. Never a commit after the
 * deadline: the deadline has passed for a poNumber once nothing is in flight nor about to leave for it. */
inline commit(a) {
    inflight[a]--; orders[a]++; pstatus[a] = PROCESSING;
    printf("platform: commits a POST of attempt %d; it now holds %d order(s) with this key\n", a, orders[a]);
    check_invariants()
}

active proctype Platform()
{
end_platform:
    do
#if !defined(PROMPT_COMMITS) && SCENARIO != RACE   /* RACE counts each journal's late commits (LateCommits) */
    :: atomic { inflight[1] > 0 -> commit(1) }
    :: atomic { inflight[2] > 0 -> commit(2) }
    :: atomic { inflight[1] > 0 -> inflight[1]--; printf("platform: drops a POST of attempt 1\n") }
    :: atomic { inflight[2] > 0 -> inflight[2]--; printf("platform: drops a POST of attempt 2\n") }
#endif
    :: atomic { pstatus[1] == PROCESSING -> pstatus[1] = ERROR; printf("platform: attempt 1 ends in error\n") }
    :: atomic { pstatus[1] == PROCESSING -> pstatus[1] = COMPLETED }
    :: atomic { pstatus[2] == PROCESSING -> pstatus[2] = COMPLETED }
    od
}

#if SCENARIO == CLAIM || SCENARIO == RETRY
/* ---------------------------------------------------------------------------------------------------------------
 * A worker of the shared journal placing key K (executor._place), every statement a step.
 * ------------------------------------------------------------------------------------------------------------- */

/* The holder may be judged stale: on the database's clock its proof is older than its lease. */
#ifdef HOST_CLOCK
#define LOOKS_STALE (owner == NOBODY || !fresh || true)  /* another host's clock, another PID namespace: any answer */
#else
#define LOOKS_STALE (owner == NOBODY || !fresh)
#endif
/* the claim's own condition on the holder (new: staleness judged inside the compare-and-set) */
#ifdef OLD_STALE_CHECK
#define HOLDER_MAY_BE_TAKEN true
#else
#define HOLDER_MAY_BE_TAKEN (state != PLACING || owner == me || LOOKS_STALE)
#endif
/* the fence's condition on the holder's own lease */
#ifdef OLD_FENCE
#define OWN_LEASE_LIVE true
#else
#define OWN_LEASE_LIVE fresh
#endif

/* Journal.mark_placed's condition: the row is as this worker holds it (its claim: placing, the attempt it sent,
 * its generation) */
#ifdef BLIND_MARK_PLACED
#define MARK_OK(att) true
#else
#define MARK_OK(att) (state == PLACING && attempt == (att) && gen == mygen)
#endif

proctype Worker(byte me)
{
    mtype r_state; byte r_gen; byte r_att; byte r_owner; byte mygen; byte a;
    bool judged_stale; bool may_exist; bool found;
    byte claims;                   /* bounded: each claim is a round of _place (UNCERTAIN_ROUNDS) */
read:
    atomic { r_state = state; r_gen = gen; r_att = attempt; r_owner = owner }
    if
    :: r_state == FINAL && jstatus == ERROR && r_att < 2 -> goto retry
    :: r_state == FINAL || r_state == PLACED -> goto finished
    :: else -> skip
    fi;
#ifdef OLD_STALE_CHECK
    /* claim_is_stale: its own SELECT, before the claim */
    judged_stale = (r_state != PLACING || r_owner == me || LOOKS_STALE);
    if :: !judged_stale -> goto finished :: else -> skip fi;
#endif
claim:
    /* Journal.claim: one compare-and-set; the staleness of a holder is judged in it, on the database's clock. */
    if :: claims >= MAX_CLAIMS -> goto finished :: else -> claims++ fi;   /* left "placing" for a resume */
    atomic {
        if
        :: state == r_state && gen == r_gen && attempt == r_att && HOLDER_MAY_BE_TAKEN -> may_exist = (state == PLACING); gen++; mygen = gen; owner = me; state = PLACING; fresh = true;
              printf("worker %d: claims attempt %d, generation %d\n", me, attempt, mygen)
        :: else -> printf("worker %d: claim refused\n", me); goto finished
        fi
    }
    if
    :: may_exist ->
look_up:
        /* _look_up_until_deadline: look-ups until the commit deadline has passed after the last POST that may
         * have left (sent-until: every fence's window closed, nothing in flight). */
#ifndef OLD_LOOK_UP
        atomic { (windows[r_att] == 0 && inflight[r_att] == 0) || gen != mygen -> skip }
#endif
        atomic {
            if
            :: gen != mygen -> printf("worker %d: claim lost while looking up\n", me); goto finished
            :: else -> found = (orders[attempt] > 0)
            fi
        }
        if
        :: found -> atomic { if :: MARK_OK(r_att) -> state = PLACED; jstatus = pstatus[r_att]; jorder = r_att
                             :: else -> skip fi };
                    printf("worker %d: finds and adopts attempt %d\n", me, attempt); goto poll
        :: else -> printf("worker %d: looks up attempt %d: nothing\n", me, attempt)
        fi
    :: else -> skip
    fi;
fence:
    /* Journal.fence: generation still ours, and (new) the holder's own lease not run out on the database's clock.
     * Its POST may leave within the fence's window (the worker's freshness check on its monotonic clock). */
    atomic {
        if
        :: gen == mygen && owner == me && state == PLACING && OWN_LEASE_LIVE -> fresh = true; a = attempt; windows[a]++
        :: else ->
            if
            :: gen == mygen && owner == me && state == PLACING -> printf("worker %d: lease ran out, claims again\n", me); goto read
            :: else -> printf("worker %d: claim lost, sends nothing\n", me); goto finished
            fi
        fi
    }
    /* the socket write: the request is in flight */
    atomic { windows[a]--; inflight[a]++; printf("worker %d: POSTs attempt %d\n", me, a) }
    /* the answer: the order was committed and answered, or the answer is uncertain (504, time-out, drop) */
    if
    :: atomic { inflight[a] > 0 -> inflight[a]--; orders[a]++; pstatus[a] = PROCESSING;
                printf("worker %d: placed attempt %d; the platform now holds %d order(s) with this key\n", me, a,
                       orders[a]);
                check_invariants() }
       /* _record_placed → Journal.mark_placed, a statement of its own after the answer: a compare-and-set on the
        * claim as held (state placing, attempt, generation) */
       atomic { if :: MARK_OK(a) -> state = PLACED; jstatus = PROCESSING; jorder = a;
                      printf("worker %d: journals attempt %d's order\n", me, a)
                   :: else -> printf("worker %d: the intent moved on; its order is not journaled by it\n", me);
                      goto finished fi }
       goto poll
#ifndef PROMPT_COMMITS
    :: printf("worker %d: uncertain answer for attempt %d\n", me, a); goto read
#endif
    fi;
retry:
    /* Journal.retry: the errored attempt is taken up again under attempt 2 */
    atomic {
        if
#ifdef BLIND_RETRY
        :: true ->
#else
        :: state == FINAL && attempt == r_att && gen == r_gen && jstatus == ERROR ->
#endif
           attempt = r_att + 1; state = PLANNED; owner = NOBODY; jstatus = NONE; jorder = 0;
           printf("worker %d: retries under attempt %d\n", me, attempt)
        :: else -> printf("worker %d: retry refused (changed since read)\n", me)
        fi
    }
    goto read;
poll:
    /* the run polls its order to a final status; a later run (resume) reads the intent again: an error is retried */
end_poll:
    atomic { state != PLACED -> skip }
    goto read;
finished:
    atomic { done_workers++ }
}

/* Journals the final status of a placed order (the poll), and runs the lease out of a holder at any time except
 * between a fence and its socket write. */
active proctype World()
{
end_world:
    do
    :: atomic { state == PLACED && pstatus[jorder] == ERROR -> state = FINAL; jstatus = ERROR }
    :: atomic { state == PLACED && pstatus[jorder] == COMPLETED -> state = FINAL; jstatus = COMPLETED }
    :: atomic { fresh && windows[1] == 0 && windows[2] == 0 -> fresh = false; printf("the holder's lease runs out\n") }
    od
}

/* At the end (nothing can move): no live order the journal forgot (no_order_forgotten). */
#define KNOWN(a) (jorder == (a) || ((state == PLACING || state == PLANNED) && attempt == (a)))
active proctype Judge()
{
    timeout ->
    if
    :: !((orders[1] == 0 || pstatus[1] == ERROR || KNOWN(1)) && (orders[2] == 0 || pstatus[2] == ERROR || KNOWN(2))) ->
        printf("the end: attempt %d's journal row names attempt %d's order; a live order is forgotten\n", attempt, jorder)
    :: else -> skip
    fi;
    assert((orders[1] == 0 || pstatus[1] == ERROR || KNOWN(1)) && (orders[2] == 0 || pstatus[2] == ERROR || KNOWN(2)))
}

init
{
    pstatus[1] = NONE; pstatus[2] = NONE;
#if SCENARIO == RETRY
    /* attempt 1 was placed and ended in error before the workers read it */
    atomic { orders[1] = 1; pstatus[1] = ERROR; state = FINAL; jstatus = ERROR; jorder = 1; gen = 1;
             run Worker(0); run Worker(1) }
#else
    atomic { run Worker(0); run Worker(1) }
#endif
}
#endif

#if SCENARIO == MODES
/* ---------------------------------------------------------------------------------------------------------------
 * One source, both modes claimed at once from two connections (Journal.claim's other-mode condition).
 * ------------------------------------------------------------------------------------------------------------- */
proctype ModeWorker(byte mode)   /* 0: New Subscription (intent K), 1: Switch Plan (intent X) */
{
    bool other_started;
    /* the source's lock row first (new), then the other-mode read and the write */
#ifdef NO_SOURCE_LOCK
    atomic { other_started = (mode == 0 && state_x != PLANNED) || (mode == 1 && state != PLANNED) }
    atomic {
        if
        :: !other_started && mode == 0 && state == PLANNED -> state = PLACING
        :: !other_started && mode == 1 && state_x == PLANNED -> state_x = PLACING
        :: else -> goto refused
        fi
    }
#else
    atomic {
        other_started = (mode == 0 && state_x != PLANNED) || (mode == 1 && state != PLANNED);
        if
        :: !other_started && mode == 0 && state == PLANNED -> state = PLACING
        :: !other_started && mode == 1 && state_x == PLANNED -> state_x = PLACING
        :: else -> goto refused
        fi
    }
#endif
    printf("mode %d: claimed, places its order\n", mode);
    atomic { if :: mode == 0 -> orders[1]++; pstatus[1] = PROCESSING :: else -> orders_x++ fi;
             printf("the source now has %d live NCE target(s)\n", LIVE_TARGETS); check_invariants() }
refused:
    skip
}

init { atomic { run ModeWorker(0); run ModeWorker(1) } }
#endif

#if SCENARIO == JOURNALS
/* ---------------------------------------------------------------------------------------------------------------
 * Two workspaces: New Subscription (journal 1) errored; Switch Plan (journal 2, its own intent X) completes; then
 * New Subscription is resumed from journal 1: its retry must not place attempt 2.
 * ------------------------------------------------------------------------------------------------------------- */
bool resume_started;

proctype Resume()
{
    bool other_on_platform;
    /* run start: the one platform read (the plan's cross-mode check skips unfinished journal work) */
    /* retry: attempt 2 */
    atomic { state = PLANNED; attempt = 2 }
#ifndef NO_RECHECK
    /* _recheck_platform: the customer's orders read right before placing */
    atomic { other_on_platform = (orders_x > 0) }
    if :: other_on_platform -> printf("resume: migrated-in-other-mode on the platform, places nothing\n"); goto held
       :: else -> skip fi;
#endif
    atomic { state = PLACING }
    atomic { orders[2]++; pstatus[2] = PROCESSING;
             printf("resume: places attempt 2; the source now has %d live NCE target(s)\n", LIVE_TARGETS);
             check_invariants() }
held:
    skip
}

init
{
    atomic { orders[1] = 1; pstatus[1] = ERROR; state = FINAL; jstatus = ERROR }   /* journal 1: errored */
    /* journal 2 sees no started intent of the other mode in its own journal; on the platform attempt 1 errored */
    atomic { state_x = PLACING }
    atomic { orders_x++; printf("switch plan (journal 2): places and completes its change order\n"); check_invariants() }
    atomic { state_x = FINAL }
    run Resume()
}
#endif

#if SCENARIO == RACE
/* ---------------------------------------------------------------------------------------------------------------
 * Two journals, one source, one mode, at the same instant. Each journal's intent row is its own (no claim
 * contention); the platform is the only shared memory.
 * ------------------------------------------------------------------------------------------------------------- */
bool reported[2];
byte sent[2];                      /* this journal's POSTs in flight (its own sent-until) */

proctype Journal(byte j)
{
    bool found; byte rounds;
    /* _recheck_platform: the customer's orders, right before placing (a committed order of this key is adopted) */
    atomic { found = (orders[1] > 0) }
    if :: found -> printf("journal %d: finds the order on the platform, adopts it\n", j); goto listed
       :: else -> printf("journal %d: re-checks the platform: no order under the key\n", j) fi;
    /* Journal.claim (its own journal: nobody else claims there), fence, socket write */
post:
    atomic { inflight[1]++; sent[j]++; printf("journal %d: POSTs the key\n", j) }
    if
    :: atomic { inflight[1] > 0 && sent[j] > 0 -> inflight[1]--; sent[j]--; orders[1]++; pstatus[1] = PROCESSING;
                printf("journal %d: placed; the platform now holds %d order(s) with this key\n", j, orders[1]) }
       goto listed
    :: printf("journal %d: uncertain answer\n", j)
    fi;
    /* _look_up_until_deadline: the commit deadline passed after this journal's own sent-until */
    atomic { sent[j] == 0 -> found = (orders[1] > 0) }
    if :: found -> printf("journal %d: finds an order under the key, adopts it\n", j)
       :: else -> if :: rounds < 1 -> rounds++; goto post :: else -> skip fi
    fi;
listed:
#ifndef NO_ORDERS_BY_KEY
    /* duplicate_orders: after the run (its orders polled), the orders listed by key */
    atomic { if :: orders[1] >= 2 -> reported[j] = true;
                    printf("journal %d: lists the orders by key: %d under one key, exit 6\n", j, orders[1])
                 :: else -> skip fi }
#endif
    skip
}

/* The platform's commits of POSTs whose answers were lost count against the journal that sent them. */
active proctype LateCommits()
{
end_late:
    do
    :: atomic { sent[0] > 0 && inflight[1] > 0 -> sent[0]--; inflight[1]--; orders[1]++; pstatus[1] = PROCESSING;
                printf("platform: commits journal 0's POST late; %d order(s) with this key\n", orders[1]) }
    :: atomic { sent[1] > 0 && inflight[1] > 0 -> sent[1]--; inflight[1]--; orders[1]++; pstatus[1] = PROCESSING;
                printf("platform: commits journal 1's POST late; %d order(s) with this key\n", orders[1]) }
    :: atomic { sent[0] > 0 && inflight[1] > 0 -> sent[0]--; inflight[1]-- }
    :: atomic { sent[1] > 0 && inflight[1] > 0 -> sent[1]--; inflight[1]-- }
    od
}

active proctype Judge()
{
    timeout ->
    if :: orders[1] >= 2 && !reported[0] && !reported[1] ->
          printf("the end: %d orders under one key, and both runs ended without reporting it\n", orders[1])
       :: else -> skip fi;
    assert(orders[1] <= 1 || reported[0] || reported[1])   /* duplicate_reported */
}

init { pstatus[1] = NONE; pstatus[2] = NONE; atomic { run Journal(0); run Journal(1) } }
#endif
