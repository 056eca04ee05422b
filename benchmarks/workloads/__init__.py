"""One module per workload family; each exposes ``run(cfg) -> list[Row]``.

``WORKLOADS`` maps the names accepted by ``--only`` to their modules, in table order.
"""
from . import chain, digits, matmul, memory, mlp, overhead

WORKLOADS = {"overhead": overhead, "mlp": mlp, "matmul": matmul, "chain": chain,
             "digits": digits, "memory": memory}
from . import lstm  # noqa: E402
WORKLOADS["lstm"] = lstm
from . import gpt  # noqa: E402
WORKLOADS["gpt"] = gpt
from . import cnn  # noqa: E402
WORKLOADS["cnn"] = cnn
from . import compiled  # noqa: E402
WORKLOADS["compiled"] = compiled
