"""The m365move events application: New Subscription mode inside Connect (DESIGN §4).

Stateless: the runner makes a new instance per task and may deliver a task twice; every handler reads
Connect and Partner Center, which are the truth, and only then acts. The logic lives in ``m365move.connect``;
this class only adapts it to the runner (responses, variables, logging).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from connect.eaas.core.decorators import event, schedulable, variables
from connect.eaas.core.extension import EventsApplicationBase
from connect.eaas.core.responses import BackgroundResponse, InteractiveResponse, ScheduledExecutionResponse

from m365move.connect.installations import installation_config, installed
from m365move.connect.purchase_fulfilment import Action, fulfil_purchase
from m365move.connect.requests_api import RequestNotPending, fail_asset_request
from m365move.connect.settings import VARIABLE_DEFAULTS, ExtensionSettings
from m365move.connect.sweep_schedule import PROGRESS_KEY, ScheduleRef, run_execution
from m365move.connect.task_deadline import BACKGROUND, INTERACTIVE, SCHEDULED, TaskDeadline, TaskOutOfTime, working_to
from m365move.connect.tier_config_checks import process_tier_config_request, validated_tier_config_request
from m365move.errors import AuthenticationError, InputError, PlatformError
from m365move.partnercenter.client import Deadline, PartnerCenterClient

# Waiting after a platform outage before the runner redelivers the task.
OUTAGE_COUNTDOWN_SECONDS = 120
# A task out of time comes back as soon as the runner allows (it reschedules no sooner than 30 s).
OUT_OF_TIME_COUNTDOWN_SECONDS = 30


@variables([
    {"name": name, "initial_value": initial, "secure": secure}
    for name, (initial, secure) in VARIABLE_DEFAULTS.items()
])
class M365MoveEventsApplication(EventsApplicationBase):  # type: ignore[misc]  # connect-eaas-core ships no types
    """CSP → NCE migrations in Connect: tier-config checks, the New Subscription sweep, migration fulfilment."""

    # Tests inject a transport here (httpx.MockTransport) instead of patching the Partner Center client.
    partner_center_transport: httpx.BaseTransport | None = None
    # Platform time (seconds) for the Partner Center client's create limit, token expiry and short waits; the local
    # event driver sets both on each instance (the sandbox may run time faster than real time). None: real time.
    platform_clock: Callable[[], float] | None = None
    platform_sleep: Callable[[float], None] | None = None

    # -- tier configurations -------------------------------------------------------------------------

    @event("tier_config_setup_request_processing", statuses=["pending"])  # type: ignore[untyped-decorator]
    def handle_tier_config_setup_request(self, request: dict[str, Any]) -> BackgroundResponse:
        return self._process_tier_config(request)

    @event("tier_config_change_request_processing", statuses=["pending"])  # type: ignore[untyped-decorator]
    def handle_tier_config_change_request(self, request: dict[str, Any]) -> BackgroundResponse:
        return self._process_tier_config(request)

    @event("tier_config_setup_request_validation", statuses=["draft"])  # type: ignore[untyped-decorator]
    def validate_tier_config_setup_request(self, request: dict[str, Any]) -> InteractiveResponse:
        return self._validate_tier_config(request)

    @event("tier_config_change_request_validation", statuses=["draft"])  # type: ignore[untyped-decorator]
    def validate_tier_config_change_request(self, request: dict[str, Any]) -> InteractiveResponse:
        return self._validate_tier_config(request)

    def _validate_tier_config(self, request: dict[str, Any]) -> InteractiveResponse:
        try:
            with working_to(TaskDeadline.for_category(INTERACTIVE)):
                ok, answer = validated_tier_config_request(request, self._settings())
        except InputError as error:
            return InteractiveResponse.fail(http_status=400, body={"error": error.one_line()})
        except TaskOutOfTime as error:
            return InteractiveResponse.fail(http_status=400, body={"error": f"m365move ran out of time: {error}"})
        except Exception as error:  # noqa: BLE001 - the runner would answer its own 400 with our traceback
            self.logger.exception("tier config request %s: validation failed", request.get("id"))
            return InteractiveResponse.fail(http_status=400, body={"error": _unexpected(error)})
        self.logger.info("tier config request %s validated: %s", request.get("id"), "ok" if ok else "needs changes")
        return InteractiveResponse.done(body=answer)

    def _process_tier_config(self, request: dict[str, Any]) -> BackgroundResponse:
        try:
            with working_to(TaskDeadline.for_category(BACKGROUND)):
                action, detail = process_tier_config_request(self.account_client, request, self._settings())
        except TaskOutOfTime as error:
            self.logger.warning("tier config request %s: %s; rescheduled", request.get("id"), error)
            return BackgroundResponse.reschedule(OUT_OF_TIME_COUNTDOWN_SECONDS)
        except InputError as error:
            return BackgroundResponse.fail(output=error.one_line())
        except (AuthenticationError, RequestNotPending) as error:
            return BackgroundResponse.fail(output=str(error))
        except PlatformError as error:
            self.logger.warning("tier config request %s: %s; rescheduled", request.get("id"), error)
            return BackgroundResponse.reschedule(OUTAGE_COUNTDOWN_SECONDS)
        except Exception as error:  # noqa: BLE001 - an escaping exception is an endless retry under the runner
            self.logger.exception("tier config request %s failed", request.get("id"))
            return BackgroundResponse.fail(output=_unexpected(error))
        self.logger.info("tier config request %s: %s (%s)", request.get("id"), action, detail)
        return BackgroundResponse.skip(detail) if action == "skip" else BackgroundResponse.done()

    # -- migration purchases -------------------------------------------------------------------------

    @event("asset_purchase_request_processing", statuses=["pending"])  # type: ignore[untyped-decorator]
    def handle_asset_purchase_request(self, request: dict[str, Any]) -> BackgroundResponse:
        """Only a platform outage or the task's own deadline reschedules (the reason logged each time); every other
        error ends the task once, with its reason on the request. The task works to a deadline below the runner's
        limit (``task_deadline``): it answers before the runner gives up on it, never after."""
        deadline = TaskDeadline.for_category(BACKGROUND)
        try:
            settings = self._settings()
            with working_to(deadline), self._partner_center(settings, deadline) as partner_center:
                outcome = fulfil_purchase(request, self.account_client, partner_center, settings)
        except TaskOutOfTime as error:
            self.logger.warning("purchase request %s: %s; rescheduled in %d s", request.get("id"), error,
                                OUT_OF_TIME_COUNTDOWN_SECONDS)
            return BackgroundResponse.reschedule(OUT_OF_TIME_COUNTDOWN_SECONDS)
        except InputError as error:
            # The extension's configuration cannot fulfil this purchase (a variable, the endpoint…): the request is
            # failed once with the reason; redelivering it would only meet the same configuration.
            self.logger.error("purchase request %s: %s", request.get("id"), error.one_line())
            return self._fail_request(request, f"m365move cannot fulfil this purchase: {error.one_line()}"[:1000])
        except AuthenticationError as error:
            # Credentials refused: the task fails with the reason; the request waits for an operator to fix the
            # secret (and retry the task), it is not the reseller's fault.
            self.logger.error("purchase request %s: %s", request.get("id"), error)
            return BackgroundResponse.fail(output=str(error))
        except PlatformError as error:
            self.logger.warning("purchase request %s: %s; rescheduled in %d s", request.get("id"), error,
                                OUTAGE_COUNTDOWN_SECONDS)
            return BackgroundResponse.reschedule(OUTAGE_COUNTDOWN_SECONDS)
        except Exception as error:  # noqa: BLE001 - an escaping exception is an endless retry under the runner
            self.logger.exception("purchase request %s failed", request.get("id"))
            return self._fail_request(request, _unexpected(error))
        self.logger.info("purchase request %s: %s (%s)", request.get("id"), outcome.action.value, outcome.detail)
        if outcome.action is Action.RESCHEDULE:
            return BackgroundResponse.reschedule(outcome.countdown)
        if outcome.action is Action.SKIP:
            return BackgroundResponse.skip(outcome.detail)
        return BackgroundResponse.done()

    def _fail_request(self, request: dict[str, Any], reason: str) -> BackgroundResponse:
        """Fail the purchase request with the reason (shown on the request), once; the task ends done."""
        try:
            fail_asset_request(self.account_client, str(request["id"]), reason)
        except Exception as error:  # noqa: BLE001 - failing the request failed too: the task carries the reason
            self.logger.error("purchase request %s: cannot fail it (%s): %s", request.get("id"), error, reason)
            return BackgroundResponse.fail(output=reason)
        return BackgroundResponse.done()

    # -- the sweep -----------------------------------------------------------------------------------

    @schedulable(  # type: ignore[untyped-decorator]
        "New Subscription sweep",
        "Plans every active CSP asset, creates one NCE purchase request per CSP item and, once all are approved, "
        "the CSP asset's cancel request. Each execution works through chunks of chunk_size assets (oldest first) "
        "within the runner's time limit; a pass that does not fit is continued by the next execution. Parameter "
        "(JSON, optional; unknown keys are refused): products, marketplace, reseller, expiration_date, batch_size, "
        "concurrency, chunk_size, migrate_at (now, renewal or YYYY-MM-DD).",
    )
    def new_subscription_sweep(self, schedule: dict[str, Any]) -> ScheduledExecutionResponse:
        """Installed by other accounts, the extension sweeps each installation's assets with that installation's key
        and Partner Center (``installations``); otherwise the environment's own account."""
        deadline = TaskDeadline.for_category(SCHEDULED)
        try:
            accounts = self._sweep_accounts()
        except (PlatformError, AuthenticationError) as error:
            self.logger.error("New Subscription sweep %s stopped: cannot list the installations: %s",
                              schedule.get("id"), error)
            return ScheduledExecutionResponse.fail(output=f"cannot list the installations: {error}"[:1000])
        summaries: list[str] = []
        failures: list[str] = []
        for installation, client in accounts:
            label = f"installation {installation['id']}: " if installation is not None else ""
            # Each installation's own position (kept only for the environment's own account, on the schedule).
            delivered = schedule if installation is None else {
                "id": f"{schedule.get('id')}:{installation['id']}",
                "parameter": {k: v for k, v in (schedule.get("parameter") or {}).items() if k != PROGRESS_KEY}}
            ref = self._schedule_ref(schedule) if installation is None else None
            try:
                settings = ExtensionSettings.from_config(installation_config(self.config or {}, installation))
                settle = settings.settle(self.platform_sleep or time.sleep)
                # Partner Center (when this extension fulfils migrations) tells which CSP items are add-ons of which
                # base.
                with working_to(deadline), self._partner_center(settings, deadline) as partner_center:
                    outcome = run_execution(client, settings, delivered, ref, self.logger, deadline=deadline,
                                            partner_center=partner_center, settle=settle)
                summaries.append(label + outcome.summary)
            except TaskOutOfTime as error:
                # The budget is checked between chunks; a single call that would pass it ends the execution here,
                # before the runner's limit. The position stored after the last whole chunk stands.
                self.logger.warning("New Subscription sweep %s stopped before the runner's limit: %s%s",
                                    schedule.get("id"), label, error)
                summaries.append(f"{label}stopped before the runner's limit: {error}")
                break
            except (InputError, PlatformError) as error:
                message = error.one_line() if isinstance(error, InputError) else str(error)
                self.logger.error("New Subscription sweep %s stopped: %s%s", schedule.get("id"), label, message)
                failures.append(label + message)
            except Exception as error:  # noqa: BLE001 - an escaping exception is a retry of the whole sweep
                self.logger.exception("New Subscription sweep %s failed: %s", schedule.get("id"), label)
                failures.append(label + _unexpected(error))
        if failures:
            return ScheduledExecutionResponse.fail(output="; ".join(failures + summaries)[:1000])
        return ScheduledExecutionResponse.done(output="; ".join(summaries)[:1000])

    def _sweep_accounts(self) -> list[tuple[dict[str, Any] | None, Any]]:
        """(installation, its client) for each installation, or (None, the environment's client) without any."""
        extension_id = getattr(getattr(self, "context", None), "extension_id", None)
        installations = installed(self.client, str(extension_id)) if extension_id else []
        if not installations:
            return [(None, self.account_client)]
        return [(installation, self.get_installation_admin_client(installation["id"]))
                for installation in installations]

    def _schedule_ref(self, schedule: dict[str, Any]) -> ScheduleRef | None:
        """The schedule in Connect's DevOps API, when the runner says which extension and environment we are."""
        context = getattr(self, "context", None)
        extension_id = getattr(context, "extension_id", None)
        environment_id = getattr(context, "environment_id", None)
        if not (extension_id and environment_id and schedule.get("id")):
            return None
        return ScheduleRef(str(extension_id), str(environment_id), str(schedule["id"]))

    # -- helpers -------------------------------------------------------------------------------------

    @property
    def account_client(self) -> Any:
        """The Connect client acting as the account whose objects the task is about.

        Installed for another account (a multi-account extension), the runner hands each task of that installation
        an ``installation_client`` holding the installation's API key: that account owns the requests, assets and
        tier configurations, and only its key may act on them. Otherwise (the extension runs in the account that owns
        it, or the task is the environment's own schedule) the environment's ``client`` is that account.
        extension/README.md "Accounts" says who owns what."""
        return self.installation_client if self.installation_client is not None else self.client

    def _settings(self) -> ExtensionSettings:
        """The environment's variables, with the installation's own Partner Center settings over them in an
        installation's task (``installations``)."""
        return ExtensionSettings.from_config(installation_config(self.config or {}, self.installation))

    def _partner_center(self, settings: ExtensionSettings, deadline: Deadline | None = None) -> _OptionalClient:
        if settings.partner_center is None or not settings.fulfil_migrations:
            return _OptionalClient(None)
        return _OptionalClient(PartnerCenterClient(settings.partner_center, base_url=settings.partner_center_endpoint,
                                                   transport=self.partner_center_transport,
                                                   clock=self.platform_clock or time.monotonic,
                                                   sleep=self.platform_sleep or time.sleep,
                                                   create_limit=settings.partner_center_create_limit,
                                                   deadline=deadline))


def _unexpected(error: BaseException) -> str:
    """A reason for an error nobody planned for: what it was, never a traceback (those go to the log)."""
    return f"m365move could not process this request: {type(error).__name__}: {error}"[:1000]


class _OptionalClient:
    """A context manager around a Partner Center client that may be absent (fulfilment switched off)."""

    def __init__(self, client: PartnerCenterClient | None) -> None:
        self.client = client

    def __enter__(self) -> PartnerCenterClient | None:
        return self.client

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            self.client.close()
