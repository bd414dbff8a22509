"""A small host application: a 12345-hotline back end that turns citizens' complaints into campaign
tasks. FastAPI for HTTP, the host's own SQLAlchemy engine and table, and campaignflow writing in
the same transaction as the host (``connection=``), so a complaint and its task commit together.

Run it with ``uvicorn docs.examples.host_app:app`` (after ``pip install fastapi uvicorn``); the
test suite drives it with FastAPI's TestClient (tests/docs/test_host_app.py).
"""

from datetime import date
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from campaignflow import (
    Actor,
    CampaignflowError,
    ConflictError,
    Engine,
    InvalidInput,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    RuleViolation,
    Task,
)

metadata = sa.MetaData()
complaints = sa.Table(  # the host's own table, next to campaignflow's cf_* tables
    "complaints",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("task_id", sa.String(36), nullable=False),
)


def actor(
    x_actor: Annotated[str, Header()], x_unit: Annotated[str, Header()], x_role: Annotated[str, Header()]
) -> Actor:
    """Who is calling. A real host takes this from its login session, not from headers."""
    try:
        return Actor(x_actor, x_unit, x_role)
    except CampaignflowError as error:
        raise HTTPException(401, error.message_en) from None


Who = Annotated[Actor, Depends(actor)]


class Complaint(BaseModel):
    text: str
    title: str
    standard: str
    measures: list[str]
    unit: str
    due: date
    indicator: str = "B3.2"
    ticket: str  # the hotline's ticket number: a retried POST returns the same task


class Reason(BaseModel):
    reason: str = ""


def create_app(database_url: str = "sqlite:///hotline.db", engine: Engine | None = None) -> FastAPI:
    """The app over one campaignflow Engine; the host's table lives in the same database."""
    flow = engine or Engine(database_url)
    flow.migrate()
    metadata.create_all(flow.sqlalchemy_engine)
    app = FastAPI(title="12345 热线创卫工单")
    app.state.flow = flow

    # --- campaignflow errors as HTTP answers: codes and both languages reach the client -------
    status = {
        RuleViolation: 422,
        PermissionDenied: 403,
        InvalidTransition: 409,
        ConflictError: 409,
        NotFound: 404,
        InvalidInput: 400,
    }

    @app.exception_handler(CampaignflowError)
    async def refused(_request: Request, error: CampaignflowError) -> JSONResponse:
        body: dict[str, Any] = {"code": error.code, "zh": error.message_zh, "en": error.message_en}
        if isinstance(error, RuleViolation):
            body["missing"] = [{"code": m.code, "rule": m.rule, "zh": m.message_zh} for m in error.missing]
        code = next((s for kind, s in status.items() if isinstance(error, kind)), 400)
        return JSONResponse(body, status_code=code)

    def view(task: Task) -> dict[str, Any]:
        return {
            "id": task.id,
            "state": task.state.value,
            "state_zh": task.state.label_zh,
            "unit": task.unit,
            "version": task.version,
            "rework_count": task.rework_count,
            "deadline": task.deadline.isoformat(),
        }

    @app.post("/complaints", status_code=201)
    def file_complaint(body: Complaint, who: Who) -> dict[str, Any]:
        """Record the complaint and assign its task in ONE transaction."""
        with flow.begin() as conn:
            task = flow.assign(
                by=who,
                title=body.title,
                standard=body.standard,
                measures=body.measures,
                unit=body.unit,
                due=body.due,
                campaign="2026创卫",
                indicator=body.indicator,
                kind="hotline.complaint",
                external_ref=body.ticket,
                connection=conn,
            )
            known = conn.execute(sa.select(complaints.c.id).where(complaints.c.task_id == task.id)).first()
            if known is None:  # a retry of the same ticket files nothing twice
                conn.execute(complaints.insert().values(text=body.text, task_id=task.id))
        return view(task)

    @app.get("/tasks/{task_id}")
    def get_task(task_id: str) -> dict[str, Any]:
        return view(flow.get(task_id))

    @app.get("/tasks/{task_id}/allowed")
    def allowed(task_id: str, who: Who) -> list[str]:
        return sorted(flow.allowed(task_id, who))

    @app.post("/tasks/{task_id}/cancel")
    def cancel(task_id: str, body: Reason, who: Who) -> dict[str, Any]:
        return view(flow.cancel(task_id, by=who, reason=body.reason))

    @app.post("/tasks/{task_id}/fail")
    def fail(task_id: str, body: Reason, who: Who) -> dict[str, Any]:
        return view(flow.fail_verification(task_id, by=who, reason=body.reason))

    return app
