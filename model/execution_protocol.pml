/*
 * The m365move execution protocol (docs/execution-protocol-model.md maps each action to its code).
 *
 * One CSP source subscription with one licence, migrated in New Subscription mode by NW workers
 * sharing one journal: a sales order (key S), then, only when it completed with the source's
 * current seats, the cancellation of the source (key C). A Switch Plan run on the same source
 * (its change order, key X) may start after the first mode's workers stopped (crashed or done).
 *
 * Faults (compile with -DFAULTS): any worker may crash between any two steps; a worker may be
 * paused past its lease (its claim is then taken over by another worker); the answer to a POST
 * may be lost after the platform created the order (502/503/504/dropped connection); an order may
 * end in error; the source's seats may change once before its cancellation; one resume run starts
 * after a crash.
 *
 * Variants that reproduce the defects of the earlier code:
 *   -DNO_FENCING        a worker POSTs without proving it still holds the claim
 *   -DRESEND_AFTER_502  a lost answer is treated as "not processed" and the POST is sent again
 *   -DNO_SEAT_CHECK     the cancellation does not compare seats
 *   -DNO_CROSS_MODE     a run does not look at the other mode's keys at all
 *   -DNO_CROSS_MODE_CLAIM  the other mode is checked when planning only, not in the claim
 *
 * Invariants (checked as assertions at the step that could break them, and at every end state):
 *   one_order_per_key  at most one order per key exists on the platform
 *   one_target         never two NCE targets (sales order and change order) for one source
 *   safe_cancel        a cancellation only when the sales order completed for the source's seats
 *   no_lost_intent     every intent ends placed, failed with a reason, blocked, or resumable
 */

#define NW 2                 /* workers of the first run sharing the journal */
#define RESUMER (NW)         /* the id of the resume run */
#define OTHER (NW + 1)       /* the id of the other mode's run */
#define NPROC (NW + 2)
#define NOBODY 255
#ifndef MAX_PAUSES
#define MAX_PAUSES 2
#endif

/* keys */
#define S 0                  /* New Subscription: the sales order */
#define C 1                  /* New Subscription: the cancellation of the source */
#define X 2                  /* Switch Plan: the change order (other mode) */
#define NKEYS 3

/* journal states of an intent (m365move/execution/intents.py IntentState, plus the blocked outcome) */
mtype = { PLANNED, PLACING, PLACED, FINAL, BLOCKED };
/* platform order statuses */
mtype = { NOORDER, PROCESSING, COMPLETED, ERROR };
/* key names, for traces */
mtype = { sales_order_S, cancellation_C, change_order_X };
mtype keyname[NKEYS];

/* ---- the platform (Commerce) ---- */
byte orders[NKEYS];          /* how many orders carry each key */
mtype status[NKEYS];         /* the status of the (first) order of each key */
byte ordered_seats = 18;     /* quantity of the sales order: the planned seats, fixed in the intent */
byte source_seats = 18;      /* the CSP source's current seats */
bool seats_changed;          /* the environment changed them (at most once) */

/* ---- the journal ---- */
mtype jstate[NKEYS];
byte owner[NKEYS];           /* claimed_by */
byte gen[NKEYS];             /* claim generation (the fencing token) */
mtype jstatus[NKEYS];        /* the platform status as journaled */

/* ---- the workers ---- */
bool alive[NPROC];           /* the process runs (false: crashed or finished) */
bool lease_lost[NPROC];      /* paused past its lease: its claims may be taken over */
bool crashed_any;
byte pauses;                 /* pauses past the lease so far (bounded: each one is a takeover) */
byte running = NW;             /* first-mode workers still running */

/* A claim may be taken over when its holder is gone or its lease ran out (journal.claim_is_stale). */
/* Another mode's intent for the source went beyond "planned" (or was blocked after starting). */
#define OTHER_MODE_STARTED(o) (jstate[o] != PLANNED && jstate[o] != BLOCKED)

#ifdef NO_CROSS_MODE
#define NO_CROSS_MODE_CLAIM
#endif
#ifndef NO_CROSS_MODE_CLAIM
#define NO_OTHER_MODE(k) (!(k == S && OTHER_MODE_STARTED(X)) && !(k == X && OTHER_MODE_STARTED(S)))
#else
#define NO_OTHER_MODE(k) true
#endif
/* Journal.claim succeeds on a planned intent, on one whose holder is gone, or on this run's own claim
 * at the generation it knows (the retry after an uncertain answer). */
#define CLAIMABLE(k) (jstate[k] == PLANNED || (jstate[k] == PLACING && (HOLDER_GONE(k) || (owner[k] == me && gen[k] == mygen))))

#define HOLDER_GONE(k) (owner[k] == NOBODY || !alive[owner[k]] || lease_lost[owner[k]])

#ifdef FAULTS
#define MAYBE_CRASH  if :: true -> goto crash :: true -> skip fi
#else
#define MAYBE_CRASH  skip
#endif

/* Trace lines (printed when spin replays a counterexample with -t). */
#define SAY(text) printf(text, me, keyname[k])

/*
 * One run (a worker): New Subscription places key S then, when S completed with the source's seats,
 * key C; Switch Plan places key X. Labels are per proctype, so the body is written once, as a loop
 * over the run's keys.
 */
proctype Run(byte me; byte first)
{
    byte k = first;
    byte mygen;
    bool may_exist;
    bool lost;
    alive[me] = true;

#ifndef NO_CROSS_MODE
    /* Planning: migrated-in-other-mode (execution/cross_mode.py other_mode_blocks): the other mode's
     * intents in the journal, then its orders on the platform, block this mode for the source. */
    if
    :: (k == S && OTHER_MODE_STARTED(X)) || (k == X && OTHER_MODE_STARTED(S)) -> SAY("run %d: blocked at planning (migrated-in-other-mode, journal): %e\n"); goto blocked
    :: else -> skip
    fi;
    MAYBE_CRASH;
    if
    :: (k == S && orders[X] > 0) || (k == X && orders[S] > 0) -> SAY("run %d: blocked at planning (migrated-in-other-mode, platform): %e\n"); goto blocked
    :: else -> skip
    fi;
    MAYBE_CRASH;
#endif

next_key:
    if
    :: jstate[k] == FINAL || jstate[k] == BLOCKED -> goto after_poll
    :: jstate[k] == PLACED -> goto poll
    :: else -> skip
    fi;

claim:
    /* Journal.claim: compare-and-set on (state, claimed_by, generation), new generation; an intent held
     * by another live run is left to it. In the same transaction, no intent of the other mode for this
     * source may have gone beyond "planned". */
    atomic {
        may_exist = (jstate[k] == PLACING);
        if
        :: CLAIMABLE(k) && !NO_OTHER_MODE(k) -> SAY("run %d: claim refused (migrated-in-other-mode, journal): %e\n"); mygen = 0; goto blocked
        :: CLAIMABLE(k) && NO_OTHER_MODE(k) ->
            gen[k]++; mygen = gen[k]; owner[k] = me; jstate[k] = PLACING; lease_lost[me] = false;
            printf("run %d: claims %e, generation %d\n", me, keyname[k], mygen)
        :: else -> SAY("run %d: leaves to the live run holding it: %e\n"); goto stop
        fi
    }
    MAYBE_CRASH;

    /* Look the key up on the platform only when a POST may have been sent under it: the intent was
     * already "placing" (a crashed or paused holder, or this run's own uncertain answer). */
    if
    :: may_exist && orders[k] > 0 -> SAY("run %d: finds on the platform and adopts %e\n"); goto adopt
    :: may_exist && orders[k] == 0 -> SAY("run %d: looks its key up, the platform has no %e\n")
    :: else -> skip
    fi;
    MAYBE_CRASH;

    /* The fenced POST (executor._fence, SimpleApiClient.place_order before_send). One journal
     * transaction proves the generation is still ours and renews the lease; the request must leave
     * within a fraction of the lease after that proof (checked on the worker's clock, which counts
     * pauses), else the proof is repeated. For a cancellation the seats are compared right before. */
    atomic {
#ifndef NO_FENCING
        if
        :: (gen[k] != mygen || lease_lost[me]) -> SAY("run %d: lost its claim, places nothing: %e\n"); goto stop
        :: else -> skip
        fi;
#endif
#ifndef NO_SEAT_CHECK
        if
        :: k == C && ordered_seats != source_seats -> jstate[C] = BLOCKED; SAY("run %d: blocked (seat-count-changed), places no %e\n"); goto stop
        :: else -> skip
        fi;
#endif
        orders[k]++;
        status[k] = PROCESSING;
        printf("run %d: POSTs %e; the platform now holds %d order(s) with this key\n", me, keyname[k], orders[k]);
        assert(orders[k] == 1);                                            /* one_order_per_key */
        assert(!(k == S && orders[X] > 0) && !(k == X && orders[S] > 0));  /* one_target */
        assert(k != C || (status[S] == COMPLETED && ordered_seats == source_seats));  /* safe_cancel */
        lost = false;
#ifdef FAULTS
        if :: true -> lost = true; printf("run %d: the answer is lost (502 after commit)\n", me) :: true -> skip fi
#endif
    }
    if
    :: lost ->
#ifdef RESEND_AFTER_502
        /* the old retry rule: a 502/503 was "refused before processing", so the client sent it again */
        atomic {
            orders[k]++;
            printf("run %d: resends the POST (old rule: a 502 means not processed); the platform now holds %d order(s) with this key\n", me, orders[k]);
            assert(orders[k] == 1)                                         /* one_order_per_key */
        }
#else
        /* uncertain (retry_policy Verdict.UNCERTAIN): claim again and look the key up before anything else */
        MAYBE_CRASH;
        goto claim
#endif
    :: else -> skip
    fi;

adopt:
    MAYBE_CRASH;
    /* Journal.mark_placed */
    atomic { jstate[k] = PLACED; jstatus[k] = status[k] }
    MAYBE_CRASH;

poll:
    /* poll until final, then journal the status */
    (status[k] == COMPLETED || status[k] == ERROR);
    MAYBE_CRASH;
    atomic { jstatus[k] = status[k]; jstate[k] = FINAL; printf("run %d: polls %e: %e\n", me, keyname[k], status[k]) }

after_poll:
    if
    :: k == S && jstatus[S] == COMPLETED -> k = C; goto next_key   /* phase 2 only after completion */
    :: else -> skip
    fi;
    goto stop;
blocked:
    atomic {
        if
        :: k == S || k == C -> if :: jstate[S] == PLANNED -> jstate[S] = BLOCKED :: else -> skip fi;
                               if :: jstate[C] == PLANNED -> jstate[C] = BLOCKED :: else -> skip fi
        :: k == X -> if :: jstate[X] == PLANNED -> jstate[X] = BLOCKED :: else -> skip fi
        fi
    }
stop:
    atomic { alive[me] = false; if :: me < NW -> running-- :: else -> skip fi }
    goto end_run;
crash:
    atomic { printf("run %d: CRASHES\n", me); alive[me] = false; crashed_any = true; if :: me < NW -> running-- :: else -> skip fi }
end_run:
    skip
}

/* Commerce moves orders along: processing → completed or error. */
active proctype Platform()
{
end_platform:
    do
    :: atomic { status[S] == PROCESSING -> status[S] = COMPLETED }
#ifdef FAULTS
    :: atomic { status[S] == PROCESSING -> status[S] = ERROR; printf("the platform: the sales order ends in error\n") }
#endif
    :: atomic { status[C] == PROCESSING -> status[C] = COMPLETED }
    :: atomic { status[X] == PROCESSING -> status[X] = COMPLETED }
    od
}

/* The world around the run: pauses, a seat change, a resume, the other mode's run. */
active proctype Environment()
{
    bool resumed; bool other_started;
end_env:
    do
#ifdef FAULTS
    :: atomic { !seats_changed && jstate[C] != PLACED && jstate[C] != FINAL && orders[C] == 0 -> seats_changed = true; source_seats = 25; printf("the source grows from 18 to 25 seats\n") }
    /* a worker paused past its lease (SIGSTOP, a VM pause, clock skew between hosts) */
    :: atomic { pauses < MAX_PAUSES && alive[0] && !lease_lost[0] -> lease_lost[0] = true; pauses++; printf("run 0 is paused past its lease\n") }
    :: atomic { pauses < MAX_PAUSES && alive[1] && !lease_lost[1] -> lease_lost[1] = true; pauses++; printf("run 1 is paused past its lease\n") }
    :: atomic { crashed_any && !resumed -> resumed = true; printf("run %d (resume) starts\n", RESUMER); run Run(RESUMER, S) }
#endif
    :: atomic { running == 0 && !other_started -> other_started = true; printf("run %d (the other mode) starts\n", OTHER); run Run(OTHER, X) }
    od
}

init
{
    atomic {
        keyname[S] = sales_order_S; keyname[C] = cancellation_C; keyname[X] = change_order_X;
        byte k = 0;
        do
        :: k < NKEYS -> jstate[k] = PLANNED; status[k] = NOORDER; jstatus[k] = NOORDER; owner[k] = NOBODY; k++
        :: else -> break
        od;
        byte i = 0;
        do
        :: i < NW -> run Run(i, S); i++
        :: else -> break
        od
    }
}

/* At the end of everything (no process can move): no intent lost. A final intent has its order on the
 * platform with the journaled status; a blocked intent has none; anything else is resumable (a resume
 * looks its key up before placing). */
active proctype Judge()
{
    timeout ->
    assert((jstate[S] != FINAL || (orders[S] == 1 && jstatus[S] == status[S])) &&
           (jstate[C] != FINAL || (orders[C] == 1 && jstatus[C] == status[C])) &&
           (jstate[X] != FINAL || (orders[X] == 1 && jstatus[X] == status[X])) &&
           (jstate[S] != BLOCKED || orders[S] == 0) &&
           (jstate[C] != BLOCKED || orders[C] == 0) &&
           (jstate[X] != BLOCKED || orders[X] == 0))
}

#ifndef FAULTS
/* Liveness where it is cheap: with no fault, the run completes (the source is cancelled). */
ltl completes { <> (jstate[C] == FINAL && jstatus[C] == COMPLETED) }
#endif
