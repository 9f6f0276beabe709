"""Execute a notebook headless (nbclient) and say what it did."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import nbformat


@dataclass
class NotebookReport:
    path: Path
    cells: int = 0
    executed: int = 0
    error: str | None = None
    outputs: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None

    def summary(self) -> str:
        lines = [f"executed {self.executed} of {self.cells} code cells of {self.path.name}"]
        for number, text in self.outputs:
            first = text.strip().splitlines()[:6]
            if first:
                lines.append(f"  [{number}] " + "\n      ".join(first))
        lines.append("result: " + ("ok" if self.ok else f"FAILED: {self.error}"))
        return "\n".join(lines)


def run_notebook(source, target, *, env=None, cwd=None, timeout: int = 600) -> NotebookReport:
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    source, target = Path(source), Path(target)
    notebook = nbformat.read(source, as_version=4)
    report = NotebookReport(path=source, cells=sum(c.cell_type == "code" for c in notebook.cells))
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(cwd or source.parent)}})
    if env:
        import os

        os.environ.update(env)  # the kernel inherits this process's environment
    try:
        client.execute()
    except CellExecutionError as exc:
        report.error = str(exc).strip().splitlines()[-1] if str(exc).strip() else repr(exc)
    finally:
        nbformat.write(notebook, target)
    for index, cell in enumerate(c for c in notebook.cells if c.cell_type == "code"):
        if cell.get("execution_count"):
            report.executed += 1
        texts = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                texts.append(output.get("text", ""))
            elif "data" in output and "text/plain" in output["data"]:
                texts.append(output["data"]["text/plain"])
        if texts:
            report.outputs.append((index + 1, "\n".join(texts)))
    return report
