"""`kinora-gpu-worker --config worker.toml` (or `python -m kinora_worker`), and the preflight
`kinora-gpu-worker check --config worker.toml` (preflight.py).

Exit status: 0 stopped; 2 a config the worker cannot run with (unreadable TOML, a model that fits
no memory plan, registration refused by the node with a 4xx); 3 see EXIT_GROUP_BROKEN."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

# Rank 0 of a torchrun group whose render failed out of step with the other ranks (group.py).
EXIT_GROUP_BROKEN = 3


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["check"]:
        from .preflight import main as check

        return check(argv[1:])
    ap = argparse.ArgumentParser(prog="kinora-gpu-worker", description="Kinora GPU worker (diffusers)")
    ap.add_argument("--config", required=True, help="TOML config (see README)")
    ap.add_argument("--log-level", default="INFO")
    ap.add_argument("--once", action="store_true", help="lease and run at most one job, then exit")
    args = ap.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from .config import ConfigError, load
    from .group import STOP, Group, GroupBroken, follow
    from .memory import MemoryPlanError
    from .pipelines import ModelHost
    from .worker import RegistrationRefused, Worker

    try:
        cfg = load(args.config)
    except (OSError, ConfigError) as e:
        print(f"kinora-gpu-worker: {e}", file=sys.stderr)
        return 2
    logging.getLogger("kinora_worker").info("config: %r", cfg)
    # Under torchrun: one group, rank 0 the worker, the other ranks following it (group.py).
    group = Group.from_env(cfg.parallel)
    if group is not None:
        for m in cfg.models.values():
            m.device = group.device_for(m.device)
        if not group.leader:
            try:
                follow(group, cfg, ModelHost(prepare=group.parallelize))
            finally:
                group.close()
            return 0
    worker = Worker(cfg, group=group)
    signal.signal(signal.SIGTERM, lambda *_: worker.stop.set())
    try:
        if args.once:
            worker.register()
            print(worker.tick(), flush=True)
        else:
            worker.run()
    except KeyboardInterrupt:
        pass
    except (RegistrationRefused, MemoryPlanError) as e:
        # Retrying cannot fix these: say why and stop (`kinora-gpu-worker check` lists every problem).
        print(f"kinora-gpu-worker: {'registration refused: ' if isinstance(e, RegistrationRefused) else ''}{e}",
              file=sys.stderr, flush=True)
        return 2
    except GroupBroken as e:
        # The job is handed back; the group cannot go on. Exit now, without the group's `STOP` or
        # tearing the process group down: both could wait on ranks still inside a collective.
        # torchrun sees the exit and stops the other ranks.
        logging.getLogger("kinora_worker").error("%s; exiting so torchrun stops the group", e)
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_GROUP_BROKEN)
    finally:
        if group is not None:
            try:
                group.share((STOP,))
                group.settle()
            finally:
                group.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
