"""Where each source is read from: a deployment's ``sources.yaml``, or a simulated dataset.

Why apart from the contracts: a contract says what a source's rows look like and travels with
the code; where the rows come from (a file path, a gateway URL, its timeouts) belongs to one
bank's deployment. Example::

    sources:
      tax_filings: {type: parquet, path: raw/tax_filings.parquet}
      court_cases:
        type: http
        url: http://gateway.bank.intranet/court/cases
        timeout_s: 2.0
        token_env: XIAOWEI_COURT_TOKEN    # the token itself is never in a file
      my_source: {type: csv, path: in/my_source.csv, contract: contracts/my_source.yaml}

Each kind's settings are checked by its own model (unknown keys refused) and errors name
``file:line``. A relative path is taken from the config file's folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from xiaowei.data.sources.connector import Connector, connector_class
from xiaowei.data.sources.contract import SourceContract, load_contract, packaged_contracts
from xiaowei.entities.datafiles import DataFileError, parse_yaml, validate_loaded

FILE_KINDS = ("parquet", "csv", "jsonl")


class _SourcesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: dict[str, dict[str, Any]]


def connectors_from_config(path: Path | str,
                           contracts: dict[str, SourceContract] | None = None
                           ) -> dict[str, Connector]:
    """Build every connector a ``sources.yaml`` declares."""
    path = Path(path)
    loaded = parse_yaml(path.read_text(encoding="utf-8"), path.name)
    spec = validate_loaded(_SourcesFile, loaded)
    known = contracts if contracts is not None else packaged_contracts()
    out: dict[str, Connector] = {}
    problems: list[tuple[int, str, str]] = []
    for name, entry in spec.sources.items():
        where = ("sources", name)
        settings = dict(entry)
        contract_path = settings.pop("contract", None)
        try:
            if contract_path is not None:
                contract = load_contract(path.parent / str(contract_path))
            elif name in known:
                contract = known[name]
            else:
                raise ValueError(f"no contract for source {name!r}; give contract: <file>")
            cls = connector_class(str(settings.get("type")))
            out[name] = cls.from_config(name, contract, settings, path.parent)
        except ValidationError as exc:
            for err in exc.errors(include_input=False, include_url=False):
                loc = (*where, *err["loc"])
                problems.append((loaded.line_of(loc), ".".join(map(str, loc)), err["msg"]))
        except (ValueError, TypeError) as exc:
            problems.append((loaded.line_of(where), ".".join(where), str(exc)))
    if problems:
        raise DataFileError(path.name, problems)
    return out


def connectors_for_dataset(root: Path | str, kind: str = "parquet",
                           contracts: dict[str, SourceContract] | None = None
                           ) -> dict[str, Connector]:
    """File connectors for every contracted source of a simulated dataset folder
    (``raw/<source>.parquet``, or ``.csv``/``.jsonl`` written by ``export_table``)."""
    if kind not in FILE_KINDS:
        raise ValueError(f"kind must be one of {list(FILE_KINDS)}, got {kind!r}")
    cls = connector_class(kind)
    known = contracts if contracts is not None else packaged_contracts()
    raw = Path(root) / "raw"
    return {name: cls.from_config(name, contract, {"type": kind,
                                                   "path": str(raw / f"{name}.{kind}")})
            for name, contract in sorted(known.items())}
