"""Run the batch's pending runs on a Dask cluster (``kehu run --executor dask``).

Each Dask worker thread keeps its own warm kernel (:func:`~.kernels.thread_kernel`), exactly as
the local executor's threads do. Workers return the run's files as data (HTML, notebook, log,
key tables) and the batch process writes them, so workers need no access to ``reports/``; they
do need the store at the same path (``KEHU_STORE``, e.g. a shared NFS mount) and the project
importable. Without ``scheduler`` a :class:`distributed.LocalCluster` on loopback is started.
"""

from __future__ import annotations

from typing import Callable, Sequence

from .execute import RunResult, RunSpec, execute_run
from .kernels import shutdown_all


def execute_dask(specs: Sequence[RunSpec], *, jobs: int, scheduler: str | None,
                 on_result: Callable[[RunResult], None], processes: bool = True) -> None:
    """Submit every run, hand each result to ``on_result`` as it completes."""
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=processes,
                               host="127.0.0.1", dashboard_address=None)
        client = Client(cluster)
    try:
        futures = [client.submit(execute_run, spec, pure=False, key=f"kehu-{spec.key}")
                   for spec in specs]
        for fut in as_completed(futures):
            try:
                result = fut.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker fails its run, not the batch
                spec = specs[futures.index(fut)]
                result = RunResult(spec.key, spec.notebook, spec.district, spec.slug, "failed",
                                   error=f"dask: {type(exc).__name__}: {exc}"[:500],
                                   fingerprint=spec.fingerprint, log=f"dask error {exc!r}\n")
            on_result(result)
        try:
            client.run(shutdown_all)
        except Exception:  # noqa: BLE001 - kernels exit with their worker anyway
            pass
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
