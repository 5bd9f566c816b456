"""An automation that marks "zombie" flow runs Crashed: runs whose process died without a word.

A flow run started by a worker sends a heartbeat event every PREFECT_FLOWS_HEARTBEAT_FREQUENCY
seconds (30 in prefect.yaml's work pool environment). If a Running run's heartbeats stop (a killed
worker, a lost machine, an OOM kill) and no final state arrives within `grace_seconds`, the server
marks it Crashed, so the UI stops showing it as Running and a re-run of the deployment can be
trusted to be the only one. Every step skips finished work, so the re-run redoes only what was lost.
"""

from __future__ import annotations

from datetime import timedelta

ZOMBIE_AUTOMATION = "tintype: crash zombie flow runs"
DEFAULT_GRACE_SECONDS = 90  # three missed heartbeats at the pool's 30 s frequency


def ensure_zombie_automation(grace_seconds: int = DEFAULT_GRACE_SECONDS) -> str:
    """Create the automation on the server PREFECT_API_URL points at, unless it exists; returns its id."""
    from prefect.automations import Automation
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    try:
        return str(Automation.read(name=ZOMBIE_AUTOMATION).id)
    except ValueError:  # not there yet
        pass
    finished = {f"prefect.flow-run.{state}" for state in ("Completed", "Failed", "Cancelled", "Crashed")}
    automation = Automation(
        name=ZOMBIE_AUTOMATION,
        description=f"A Running flow run with no heartbeat for {grace_seconds} s is marked Crashed (docs/scaling.md).",
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={"prefect.flow-run.heartbeat", *finished},
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=grace_seconds),
        ),
        actions=[ChangeFlowRunState(state=StateType.CRASHED,
                                    message=f"No heartbeat for {grace_seconds} s: the flow run's process is gone.")],
    )
    return str(automation.create().id)
