"""A campaign log as a Minari dataset (Farama's offline-RL format), and back.

:func:`export_minari` writes any log (a :class:`LoggedEpisodes` or a table in
the logged-data schema) as a Minari dataset; :func:`load_minari` reads one back
as :class:`LoggedEpisodes`.  Minari is the optional ``offline`` extra
(``pip install journeygym[offline]``).

One Minari episode per customer (:mod:`journeygym.ope.minari_episodes` gives the
layout: the final observation repeats the last logged one, ``truncations[-1]``
is True, ``infos`` hold ``customer_id`` and the behavior ``propensity``).

The dataset's metadata carries, under the key :data:`METADATA_KEY`, the action
names, whether the propensities were logged, estimated or absent, the log's own
record (seed, behavior policy, horizon, schema version...) and the package
version that exported it.

The data are stored as HDF5 (Minari's default, through h5py): Minari's Arrow
storage rewrites the dataset's size after every episode by listing all files
written so far, so its export time grows with the square of the number of
customers (2,000 customers x 52 weeks took 470 s, against 9 s as HDF5), and it
cannot read back a one-dimensional per-step info such as ``customer_id``.

Cost: Minari stores each episode as its own HDF5 group of chunked datasets, so
time and space go by customer, through h5py's per-object overhead; the arrays
themselves are built for all customers at once.  20,000 customers x 52 weeks
took 115 s to export and 76 s to load on two busy cores, in 559 MB (about 28 kB
a customer, four times the raw arrays).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from gymnasium import spaces

import journeygym
from journeygym.envs.observation import ObservationColumn, observation_space as journey_observation_space
from journeygym.ope.episodes import LoggedEpisodes, OPEInputError, episodes_from_frame
from journeygym.ope.minari_episodes import episode_buffers, episodes_from_minari

if TYPE_CHECKING:
    from gymnasium.envs.registration import EnvSpec

__all__ = ["DATA_FORMAT", "DATASETS_PATH_ENV", "METADATA_KEY", "export_minari", "load_minari"]

#: Minari's storage format used by :func:`export_minari`.
DATA_FORMAT = "hdf5"
#: The environment variable Minari reads its datasets' root folder from.
DATASETS_PATH_ENV = "MINARI_DATASETS_PATH"
#: The key of journeygym's record in the dataset's metadata.
METADATA_KEY = "journeygym"
_RECORD_VERSION = 1
_STAGING_PREFIX = ".journeygym-export-"


def _minari() -> ModuleType:
    try:
        import minari
    except ImportError as error:
        raise ImportError(
            "Minari datasets need the minari package; install the offline extra: pip install 'journeygym[offline]'."
        ) from error
    return minari


@contextmanager
def _datasets_root(data_path: str | os.PathLike[str] | None) -> Iterator[None]:
    """Point Minari at ``data_path`` for the duration (Minari reads the folder from the environment only).

    The variable is process-wide: threads exporting to different roots at once would see each other's.
    """
    if data_path is None:
        yield
        return
    previous = os.environ.get(DATASETS_PATH_ENV)
    os.environ[DATASETS_PATH_ENV] = os.fspath(data_path)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(DATASETS_PATH_ENV, None)
        else:
            os.environ[DATASETS_PATH_ENV] = previous


def _check_dataset_id(dataset_id: Any) -> str:
    from minari.dataset.minari_dataset import DATASET_ID_RE

    match = DATASET_ID_RE.fullmatch(dataset_id) if isinstance(dataset_id, str) else None
    if match is None or match.group("version") is None:
        raise OPEInputError(
            f"Minari dataset id: received {dataset_id!r}; expected 'namespace/name-v<version>' (namespace optional, "
            "at least two characters), e.g. 'journeygym/hillstrom-log-v0'."
        )
    return dataset_id


def _as_episodes(episodes_or_frame: Any) -> LoggedEpisodes:
    if isinstance(episodes_or_frame, LoggedEpisodes):
        episodes = episodes_or_frame
    elif isinstance(episodes_or_frame, pd.DataFrame):
        episodes = episodes_from_frame(episodes_or_frame)
    else:
        raise OPEInputError(
            f"export_minari: received {type(episodes_or_frame).__name__}; expected LoggedEpisodes or a pandas "
            "DataFrame in the logged-data schema."
        )
    if episodes.n_customers == 0:
        raise OPEInputError("export_minari: received episodes of 0 customers; expected at least one.")
    expected = len(episodes.observation_names)
    if episodes.observations.shape[2] != expected:
        raise OPEInputError(
            f"export_minari: the observations have {episodes.observations.shape[2]} columns; expected {expected}, one "
            f"per observation name {list(episodes.observation_names)[:4]} ..."
        )
    if not np.issubdtype(np.asarray(episodes.customer_ids).dtype, np.integer):
        raise OPEInputError(
            f"export_minari: customer ids have dtype {np.asarray(episodes.customer_ids).dtype}; expected integers "
            "(the logged-data schema's int64 customer_id)."
        )
    return episodes


def _spaces(
    episodes: LoggedEpisodes, given_observation: spaces.Space | None, given_action: spaces.Space | None
) -> tuple[spaces.Space, spaces.Space]:
    """The dataset's spaces: the given ones, checked against the episodes, else the log's own."""
    dimension, n_actions = episodes.observations.shape[2], episodes.n_actions
    own = journey_observation_space([ObservationColumn(name, "") for name in episodes.observation_names])
    observation = own if given_observation is None else given_observation
    action = spaces.Discrete(n_actions) if given_action is None else given_action
    if not isinstance(observation, spaces.Box) or observation.shape != (dimension,):
        raise OPEInputError(
            f"export_minari: observation_space {observation} does not fit the log's {dimension} observation "
            f"columns; expected a Box of shape ({dimension},) (leave it None for the log's own)."
        )
    if not isinstance(action, spaces.Discrete) or int(action.n) != n_actions or int(action.start) != 0:
        raise OPEInputError(
            f"export_minari: action_space {action} does not fit the log's {n_actions} actions "
            f"{list(episodes.action_names)}; expected Discrete({n_actions}) (leave it None for the log's own)."
        )
    return observation, action


def _json_safe(value: Any) -> Any:
    """``value`` as plain JSON types (numpy numbers and arrays included); other objects as their text."""

    def plain(item: Any) -> Any:
        return item.tolist() if isinstance(item, (np.generic, np.ndarray)) else str(item)

    return json.loads(json.dumps(value, default=plain))


def _propensity_source(episodes: LoggedEpisodes) -> str:
    if episodes.behavior_probabilities is None:
        return "absent"
    return "estimated" if episodes.propensities_estimated else "logged"


def _record(episodes: LoggedEpisodes) -> dict[str, Any]:
    """journeygym's record in the dataset's metadata."""
    return {
        "record_version": _RECORD_VERSION,
        "journeygym_version": journeygym.__version__,
        "action_names": list(episodes.action_names),
        "observation_columns": list(episodes.observation_names),
        "propensities": _propensity_source(episodes),
        "propensities_estimated": bool(episodes.propensities_estimated),
        "final_observation": "repeats the last logged observation (a log does not record the next one)",
        "log": _json_safe(dict(episodes.metadata)),
    }


def _default_description(episodes: LoggedEpisodes) -> str:
    return (
        f"journeygym campaign log: {episodes.n_customers} customers, up to {episodes.horizon} weeks, actions "
        f"{list(episodes.action_names)}; behavior propensities {_propensity_source(episodes)}."
    )


def _default_algorithm(episodes: LoggedEpisodes) -> str:
    behavior = episodes.metadata.get("behavior")
    kind = behavior.get("kind") if isinstance(behavior, dict) else None
    return f"journeygym behavior policy ({kind})" if kind else "logged behavior policy"


def _is_minari_dataset(path: Path) -> bool:
    return path.joinpath("data", "metadata.json").is_file()


def export_minari(
    episodes_or_frame: LoggedEpisodes | pd.DataFrame,
    dataset_id: str,
    *,
    data_path: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    env_spec: str | EnvSpec | None = None,
    observation_space: spaces.Space | None = None,
    action_space: spaces.Space | None = None,
    author: str | set[str] | None = None,
    author_email: str | set[str] | None = None,
    code_permalink: str | None = None,
    algorithm_name: str | None = None,
    description: str | None = None,
) -> Path:
    """Write a campaign log as a Minari dataset, one episode per customer.

    Parameters
    ----------
    episodes_or_frame
        :class:`LoggedEpisodes`, or a table in the logged-data schema (read
        with :func:`episodes_from_frame`).  Episodes may have different lengths.
    dataset_id
        ``"namespace/name-v<version>"`` (namespace optional).
    data_path
        The datasets' root folder; default Minari's (``$MINARI_DATASETS_PATH``,
        else ``~/.minari/datasets``).
    overwrite
        Replace an existing dataset of that id (else refuse).
    env_spec
        The Gymnasium environment that produced the log, if any (e.g.
        ``"journeygym/CustomerJourney-v0"`` for a simulated log); Minari makes it
        once to record its spec, also as the evaluation environment.  None for
        a real campaign's log.
    observation_space, action_space
        The dataset's spaces; default the log's own, ``observation_space(action_names)``
        and ``Discrete(A)``.  Given ones must fit the log.
    author, author_email, code_permalink
        Minari's provenance fields (Minari warns when they are missing).
    algorithm_name, description
        Default: the behavior policy's kind, and a line giving the log's size,
        actions and where its propensities come from.

    Returns
    -------
    pathlib.Path
        The dataset's folder (its data lie in ``data/`` below it).

    Raises
    ------
    OPEInputError
        A malformed dataset id, an existing dataset without ``overwrite=True``
        (or a folder there that is not a Minari dataset), input that is not a
        log, a mask that is not a prefix, non-integer customer ids, spaces that
        do not fit the log.
    ImportError
        Minari is not installed.
    """
    minari = _minari()
    dataset_id = _check_dataset_id(dataset_id)
    episodes = _as_episodes(episodes_or_frame)
    observation, action = _spaces(episodes, observation_space, action_space)
    from minari.dataset.minari_dataset import parse_dataset_id
    from minari.namespace import create_namespace, list_local_namespaces
    from minari.storage import get_dataset_path

    with _datasets_root(data_path):
        root = get_dataset_path()
        target = get_dataset_path(dataset_id)
        if target.exists() and not overwrite:
            raise OPEInputError(
                f"export_minari: a dataset {dataset_id!r} already exists at {str(target)!r}; pass overwrite=True to "
                "replace it, or bump the id's version (e.g. -v1)."
            )
        if target.exists() and not _is_minari_dataset(target):
            raise OPEInputError(
                f"export_minari: {str(target)!r} exists but holds no Minari dataset (no data/metadata.json); refusing "
                "to delete it. Choose another dataset id or remove the folder yourself."
            )
    buffers = episode_buffers(episodes)
    # Written in a hidden staging folder, then moved into place: an interrupted export leaves no half dataset.
    staging = Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=root))
    try:
        with _datasets_root(staging), warnings.catch_warnings():
            if env_spec is None:
                warnings.filterwarnings("ignore", message=r".*(env_spec|eval_env)", category=UserWarning)
            dataset = minari.create_dataset_from_buffers(
                dataset_id,
                buffers,
                env=env_spec,
                eval_env=env_spec,
                algorithm_name=algorithm_name or _default_algorithm(episodes),
                author=author,
                author_email=author_email,
                code_permalink=code_permalink,
                observation_space=observation,
                action_space=action,
                description=description or _default_description(episodes),
                data_format=DATA_FORMAT,
            )
            dataset.storage.update_metadata({METADATA_KEY: _record(episodes)})
        with _datasets_root(root):
            namespace = parse_dataset_id(dataset_id)[0]
            if namespace is not None and namespace not in list_local_namespaces():
                create_namespace(namespace)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            target.rename(staging / "replaced")
        (staging / dataset_id).rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _dataset_action_names(
    record: dict[str, Any] | None, action_names: Sequence[str] | None, dataset_id: str
) -> tuple[str, ...]:
    recorded = tuple(record["action_names"]) if record else None
    expected = tuple(action_names) if action_names is not None else None
    if recorded is not None and expected is not None and recorded != expected:
        raise OPEInputError(
            f"load_minari: dataset {dataset_id!r} holds the actions {list(recorded)}, expected {list(expected)}; it "
            "comes from another action set. Load it without action_names, or evaluate policies built for its actions."
        )
    names = recorded or expected
    if names is None:
        raise OPEInputError(
            f"load_minari: dataset {dataset_id!r} has no {METADATA_KEY!r} record (export_minari did not write it); "
            "pass action_names=(...) naming its actions, action 0 first."
        )
    return names


def _dataset_observation_names(
    record: dict[str, Any] | None, observation_names: Sequence[str] | None, dataset_id: str
) -> tuple[str, ...]:
    if observation_names is not None:
        return tuple(observation_names)
    if record and record.get("observation_columns"):
        return tuple(record["observation_columns"])
    raise OPEInputError(
        f"load_minari: dataset {dataset_id!r} has no {METADATA_KEY!r} record naming its observation columns "
        "(export_minari did not write it); pass observation_names=(...) with one name per column, in order."
    )


def _check_dataset_spaces(dataset: Any, names: tuple[str, ...], observation_names: tuple[str, ...], dataset_id: str) -> None:
    dimension = len(observation_names)
    observation, action = dataset.observation_space, dataset.action_space
    if not isinstance(observation, spaces.Box) or observation.shape != (dimension,):
        raise OPEInputError(
            f"load_minari: dataset {dataset_id!r} has observation space {observation}; expected a Box of shape "
            f"({dimension},), the journeygym observation for the actions {list(names)}. It holds another kind of "
            "observation and cannot be read as a campaign log."
        )
    if not isinstance(action, spaces.Discrete) or int(action.n) != len(names) or int(action.start) != 0:
        raise OPEInputError(
            f"load_minari: dataset {dataset_id!r} has action space {action}; expected Discrete({len(names)}) for the "
            f"actions {list(names)}."
        )


def load_minari(
    dataset_id: str,
    *,
    data_path: str | os.PathLike[str] | None = None,
    action_names: Sequence[str] | None = None,
    observation_names: Sequence[str] | None = None,
) -> LoggedEpisodes:
    """Read a Minari dataset (one episode per customer) back as :class:`LoggedEpisodes`.

    Parameters
    ----------
    dataset_id
        ``"namespace/name-v<version>"``.
    data_path
        The datasets' root folder; default Minari's.
    action_names
        The action set the dataset must have; required for a dataset that
        :func:`export_minari` did not write (then ``infos["customer_id"]``, if
        absent, becomes the episode index, and ``infos["propensity"]`` counts
        as logged).
    observation_names
        The observation's column names; required for a dataset that
        :func:`export_minari` did not write (default: the record's).

    Returns
    -------
    LoggedEpisodes
        ``(N, H)`` arrays with H the longest episode; the final observation of
        each Minari episode is dropped; behavior probabilities from
        ``infos["propensity"]``, else None.

    Raises
    ------
    OPEInputError
        A malformed id, no such dataset under the root, a dataset of another
        action set or observation dimension, propensities in some episodes only,
        or propensities that do not fit the logged actions.
    ImportError
        Minari is not installed.
    """
    minari = _minari()
    dataset_id = _check_dataset_id(dataset_id)
    from minari.storage import get_dataset_path

    with _datasets_root(data_path):
        if not _is_minari_dataset(get_dataset_path(dataset_id)):
            found = sorted(minari.list_local_datasets())
            raise OPEInputError(
                f"load_minari: no Minari dataset {dataset_id!r} under {str(get_dataset_path())!r} (found {found[:10]}"
                f"{' ...' if len(found) > 10 else ''}); export one with export_minari or pass the data_path it was "
                "written to."
            )
        dataset = minari.load_dataset(dataset_id)
    record = dataset.storage.metadata.get(METADATA_KEY)
    names = _dataset_action_names(record, action_names, dataset_id)
    obs_names = _dataset_observation_names(record, observation_names, dataset_id)
    _check_dataset_spaces(dataset, names, obs_names, dataset_id)

    return episodes_from_minari(
        list(dataset.iterate_episodes()),
        names,
        obs_names,
        log_metadata=dict(record.get("log", {})) if record else {},
        propensities_estimated=bool(record.get("propensities_estimated")) if record else False,
        source=f"load_minari: dataset {dataset_id!r}",
    )
