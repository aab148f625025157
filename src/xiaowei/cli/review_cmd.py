"""`xiaowei review …` and `xiaowei dd …`: the manual review queue and due-diligence tasks on
the command line.

Review (人工审批): ``list [--queue Q] [--mine] [--overdue]`` open tasks (all queues unless
``--queue``), ``show TASK`` the review file, ``open APPLICATION`` a review for a case the
engine sent to a person, ``claim TASK``, ``approve TASK [--amount A] [--note N]``,
``reject TASK [--note N]`` (a note is required to go against the engine's proposal),
``check TASK --confirm|--refuse [--note N]`` (the checker, a different person, above the
maker–checker threshold), ``sweep`` (record SLA breaches; running it twice records none twice).

Due diligence (尽职调查): ``dd open APPLICATION`` (the checklist the DD level asks for, held by
the application's manager), ``dd show TASK``, ``dd record TASK --item ID=ok|adverse[:note] …``
(the whole checklist at once; an adverse finding sends the case to manual review, DD_ADVERSE).

Who acts is ``--user`` (alias ``--by``), else ``$XIAOWEI_USER``, else the OS login. Refusals
exit 2 with ``错误 error: …``. ``--json`` prints one JSON object: ``{"tasks": [task, …]}`` for
``list`` (each with ``late_seconds``), the review file for ``show``, the task after the step
for ``claim/approve/reject/check``, ``{"checklist": …}`` for ``dd show`` and
``{"task", "adverse", "review"}`` for ``dd record``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from xiaowei.cli.output import current_user, fail, out, print_json, who_and_when
from xiaowei.config import get_settings
from xiaowei.engine.workflow import TaskView, WorkflowError, WorkQueue, format_late
from xiaowei.entities.datafiles import DataFileError
from xiaowei.origination.due_diligence import DueDiligence, Finding
from xiaowei.origination.review_queue import ReviewQueue
from xiaowei.store import migrate
from xiaowei.store.database import make_engine

app = typer.Typer(help="人工审批 — manual review queue: list, show, claim, approve, reject, "
                       "check (maker–checker), SLA sweep", no_args_is_help=True)
dd_app = typer.Typer(help="尽职调查 — due-diligence tasks: open, show, record findings",
                     no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="print one JSON document")]
User = Annotated[str | None, typer.Option(
    "--user", "--by", help="who acts (default: $XIAOWEI_USER, then the OS user)")]
Note = Annotated[str | None, typer.Option("--note", help="why, for the audit trail")]
TaskId = Annotated[str, typer.Argument(help="task id, e.g. T3f9…")]
AppId = Annotated[str, typer.Argument(help="application id")]


@contextmanager
def _engine() -> Iterator[Any]:
    """The configured store, migrated to head; refusals become clear errors (exit 2)."""
    settings = get_settings()
    settings.ensure_home()
    migrate.upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        yield engine
    except (WorkflowError, DataFileError) as exc:
        fail(str(exc))
    finally:
        engine.dispose()


def _status(task: TaskView) -> str:
    stage = {"checker": " · 待复核 awaiting checker", "returned": " · 退回 returned"}
    return f"{task.status.zh} {task.status}{stage.get(task.stage or '', '')}"


def _done(task: TaskView, verb: str, as_json: bool) -> None:
    if as_json:
        print_json(task.to_json())
        return
    out.print(f"{verb} [bold]{task.task_id}[/] · {_status(task)} · "
              f"{who_and_when(task.claimed_by, task.claimed_at)}")


@app.command("list")
def list_tasks(
    queue: Annotated[str | None, typer.Option("--queue", help="only this queue")] = None,
    mine: Annotated[bool, typer.Option("--mine", help="only tasks I hold")] = False,
    overdue: Annotated[bool, typer.Option("--overdue", help="only tasks past due")] = False,
    user: User = None,
    as_json: JsonFlag = False,
) -> None:
    """任务列表 — open tasks, due soonest first."""
    holder = current_user(user) if mine else None
    now = dt.datetime.now(dt.UTC)
    with _engine() as engine:
        tasks = WorkQueue(engine).tasks(queue=queue, claimed_by=holder)
    rows = [(t, t.late_by(now)) for t in tasks]
    if overdue:
        rows = [(t, late) for t, late in rows if late is not None]
    if as_json:
        print_json({"tasks": [{**t.to_json(), "late_seconds":
                               int(late.total_seconds()) if late else None} for t, late in rows]})
        return
    table = Table(title=f"任务 tasks · {len(rows)}")
    table.add_column("任务 task", no_wrap=True)
    for col in ("队列 queue", "类型 kind", "申请 application", "状态 status", "领取 claimed",
                "到期 due", "逾期 late"):
        table.add_column(col)
    for t, late in rows:
        table.add_row(t.task_id, t.queue or "—", t.kind, t.links.get("application_id") or "—",
                      _status(t), who_and_when(t.claimed_by, t.claimed_at),
                      f"{t.due_at:%Y-%m-%d %H:%M} UTC" if t.due_at else "—",
                      f"[red]{format_late(late)}[/]" if late else "—")
    out.print(table)


@app.command("show")
def show(task_id: TaskId, as_json: JsonFlag = False) -> None:
    """审批档案 — the review file: application, tags, trace, reasons, scores, proposal."""
    with _engine() as engine:
        file = ReviewQueue(engine).file(task_id)
    if as_json:
        print_json(file)
        return
    task, app_, dec = file["task"], file["application"], file["decision"]
    out.print(f"[bold]{task['task_id']}[/] {task['status_zh']} {task['status']} · "
              f"申请 application {app_['application_id']} · {escape(app_['party_name'])} · "
              f"金额 amount {app_['amount']} · 期限 term {app_['term_months']}")
    out.print(f"引擎 engine: {dec['outcome']} ({dec['mode']}) · 额度 limit {dec['limit']} · "
              f"评级 grade {dec['grade']} · 尽调 DD {dec['dd_level']} · "
              f"策略 pack {dec['pack']}@{str(dec['pack_version'])[:12]}")
    out.print(f"建议 proposal: {file['proposal']}")
    reasons = Table(title="原因 reasons")
    for col in ("代码 code", "中文", "English", "节点 node"):
        reasons.add_column(col)
    for r in file["reasons"]:
        reasons.add_row(r.get("code", ""), escape(r.get("zh", "")), escape(r.get("en", "")),
                        r.get("node") or "—")
    out.print(reasons)
    out.print(f"评分 scores: {file['scores']}")
    out.print(f"标签 tags used: {len(file['tags'])} · 轨迹 trace nodes: {len(file['trace'])} "
              "(--json for all)")
    for e in file["events"]:
        out.print(f"  {e['at'][:16]} {escape(e['actor'])} {e['action']} "
                  f"{e['from'] or ''}→{e['to'] or ''} {escape(e['note'] or '')}")


@app.command("open")
def open_review(application_id: AppId, user: User = None, as_json: JsonFlag = False) -> None:
    """开启审批 — open the review of a case the engine sent to a person."""
    who = current_user(user)
    with _engine() as engine:
        task = ReviewQueue(engine).open(application_id, by=who)
    _done(task, "审批任务 review task", as_json)


@app.command("claim")
def claim(task_id: TaskId, user: User = None, as_json: JsonFlag = False) -> None:
    """领取 — take the task (one person at a time)."""
    who = current_user(user)
    with _engine() as engine:
        task = ReviewQueue(engine).claim(task_id, by=who)
    _done(task, "已领取 claimed", as_json)


def _amount(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        fail(f"--amount: expected an amount in yuan, got {text!r}")
        raise
    return value


@app.command("approve")
def approve(
    task_id: TaskId,
    note: Note = None,
    amount: Annotated[str | None, typer.Option(
        "--amount", help="approved amount in yuan (default: the proposed limit)")] = None,
    user: User = None,
    as_json: JsonFlag = False,
) -> None:
    """批准 — approve; above the threshold a checker must confirm."""
    who = current_user(user)
    with _engine() as engine:
        task = ReviewQueue(engine).approve(task_id, by=who, note=note, amount=_amount(amount))
    _done(task, "已批准 approved" if task.stage == "final" else "待复核 sent to checker",
          as_json)


@app.command("reject")
def reject(task_id: TaskId, note: Note = None, user: User = None,
           as_json: JsonFlag = False) -> None:
    """拒绝 — reject (a note is required to go against the engine's proposal)."""
    who = current_user(user)
    with _engine() as engine:
        task = ReviewQueue(engine).reject(task_id, by=who, note=note)
    _done(task, "已拒绝 rejected", as_json)


@app.command("check")
def check(
    task_id: TaskId,
    confirm: Annotated[bool | None, typer.Option(
        "--confirm/--refuse", help="confirm the maker's decision, or send it back")] = None,
    note: Note = None,
    user: User = None,
    as_json: JsonFlag = False,
) -> None:
    """复核 — the checker (not the maker) confirms or refuses a large approval."""
    if confirm is None:
        fail("say --confirm or --refuse")
    who = current_user(user)
    with _engine() as engine:
        task = ReviewQueue(engine).check(task_id, by=who, confirm=bool(confirm), note=note)
    _done(task, "已复核 confirmed" if confirm else "已退回 returned to maker", as_json)


@app.command("sweep")
def sweep(as_json: JsonFlag = False) -> None:
    """超时巡检 — record an SLA breach for each overdue task (once per task)."""
    with _engine() as engine:
        found = WorkQueue(engine).sweep_overdue(by="system:sla")
    if as_json:
        print_json({"breaches": [{"task_id": t.task_id, "late_seconds":
                                  int(late.total_seconds())} for t, late in found]})
        return
    out.print(f"新记录超时 new SLA breaches: {len(found)}")
    for t, late in found:
        out.print(f"  {t.task_id} {t.queue} {format_late(late)}")


@dd_app.command("open")
def dd_open(application_id: AppId, user: User = None, as_json: JsonFlag = False) -> None:
    """开启尽调 — the DD task the engine's level asks for, held by the assigned manager."""
    who = current_user(user)
    with _engine() as engine:
        task = DueDiligence(engine).open(application_id, by=who)
    if task is None:
        if as_json:
            print_json({"task": None})
        else:
            out.print(f"无需尽调 no due diligence needed for {escape(application_id)}")
        return
    _done(task, "尽调任务 due-diligence task", as_json)


@dd_app.command("show")
def dd_show(task_id: TaskId, as_json: JsonFlag = False) -> None:
    """尽调清单 — the checklist and what has been recorded."""
    with _engine() as engine:
        sheet = DueDiligence(engine).checklist(task_id)
    if as_json:
        print_json({"checklist": sheet})
        return
    task = sheet["task"]
    table = Table(title=f"尽调清单 checklist · {task['task_id']} · {sheet['dd_level']} · "
                        f"{task['status_zh']} {task['status']}")
    for col in ("项目 item", "中文", "English", "证据 evidence", "结果 finding"):
        table.add_column(col)
    for item in sheet["items"]:
        found = item["finding"]
        cell = "—" if found is None else (
            f"{'[red]不利 adverse[/]' if found['outcome'] == 'adverse' else '正常 ok'} "
            f"{escape(found['note'] or '')}")
        table.add_row(item["id"], escape(item["zh"]), escape(item["en"]), item["evidence"],
                      cell)
    out.print(table)


@dd_app.command("record")
def dd_record(
    task_id: TaskId,
    item: Annotated[list[str], typer.Option(
        "--item", help="ID=ok|adverse[:note], once per checklist item")],
    user: User = None,
    as_json: JsonFlag = False,
) -> None:
    """记录尽调 — record the whole checklist; an adverse finding sends the case to review."""
    who = current_user(user)
    with _engine() as engine:
        findings = [Finding.parse(text) for text in item]
        done = DueDiligence(engine).record(task_id, by=who, findings=findings)
    if as_json:
        print_json({"task": done.task.to_json(), "adverse": [f.to_json() for f in done.adverse],
                    "review": done.review.to_json() if done.review else None})
        return
    out.print(f"已记录 recorded [bold]{task_id}[/] · {_status(done.task)}")
    if done.review is not None:
        names = ", ".join(f.item_id for f in done.adverse)
        out.print(f"[red]不利发现 adverse[/] ({names}) → 转人工审批 sent to manual review: "
                  f"{done.review.task_id}")
