"""One example everywhere: the README's five lines, `workbench demo` and the backtest explorer's
defaults run the same backtest (workbench.examples) and show the same headline figure."""

from __future__ import annotations

import re
from pathlib import Path

from workbench import examples
from workbench.demo import demo_backtest, headline
from workbench.store import Store

README = Path(__file__).resolve().parents[1] / "README.md"


def _five_lines() -> str:
    section = README.read_text().split("## Five lines", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_five_lines_the_demo_and_the_explorer_show_one_result(tmp_path: Path):
    expected = examples.run()
    scope: dict = {}
    exec(compile(_five_lines(), "README.md", "exec"), scope)
    readme = scope["result"]
    assert readme.run_id == expected.run_id
    assert readme.final_equity == expected.final_equity

    with Store(f"sqlite:///{tmp_path / 'demo.db'}", artifacts_dir=tmp_path / "artifacts") as store:
        demo = demo_backtest(store)
    assert demo.run_id == expected.run_id
    assert headline(demo, dataset=examples.DATASET).total_return == expected.stats.total_return

    from workbench.ui.explorer import BacktestExplorer

    explorer = BacktestExplorer().result
    assert explorer.run_id == expected.run_id

    # the number the README quotes is the one they all show
    quoted = re.search(r"total return (\d+\.\d\d)%", _five_lines()).group(1)
    assert f"{expected.stats.total_return:.2%}" == f"{quoted}%"
