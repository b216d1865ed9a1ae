"""XGBoost loads only where a model is trained or loaded."""

import subprocess
import sys


def test_importing_workbench_ml_and_running_a_backtest_load_no_xgboost():
    code = (
        "import sys, workbench as wb, workbench.ml\n"
        "from workbench.strategies import SmaCross\n"
        "wb.backtest(wb.data.sample('GOOG'), SmaCross())\n"
        "import workbench.ml.arbiter, workbench.ml.trading, workbench.ml.sentiment\n"
        "print('xgboost' in sys.modules, 'vaderSentiment' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
