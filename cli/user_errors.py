"""Which exceptions end a `tintype` command as one line, `error: <what is wrong>; <what to do>`, and that line.

A user error is one the user fixes with another argument, file or folder:
  - a path the file system refuses (not found, not a folder, a folder, exists, no permission), wherever raised;
  - an object-store location that cannot be read or written (safe_files.data_root_storage.StorageError);
  - an address the command cannot listen on (a port in use, a host that is not this machine's);
  - a ValueError raised by tintype's own code: that is how the stages refuse a setting, a dataset or a
    model (their messages say what to do after a semicolon).
It arrives the same way from inside a Prefect flow: the flow call re-raises the task's exception.
A ValueError raised inside a library (numpy, torch, pydantic) and every other exception are bugs or
failures to look into: they keep their traceback. `tintype --debug` or TINTYPE_DEBUG=1 shows it for all.
"""

from __future__ import annotations

import argparse
import errno

OUR_PACKAGES = frozenset({"cli", "flows", "inference", "preprocessing", "safe_files", "scraping", "studio", "training"})
PATH_ERRORS = (FileNotFoundError, NotADirectoryError, IsADirectoryError, FileExistsError, PermissionError)
ADDRESS_ERRNOS = frozenset({errno.EADDRINUSE, errno.EADDRNOTAVAIL})

# What to do, where a message does not say it already (a message of ours does, after a semicolon).
PATH_ADVICE = {
    FileNotFoundError: "check the path",
    NotADirectoryError: "give a folder",
    IsADirectoryError: "give a file, not a folder",
    FileExistsError: "choose another output, or remove it",
    PermissionError: "check its permissions, or choose a folder you can write to",
}


def is_user_error(error: BaseException) -> bool:
    from safe_files.data_root_storage import StorageError  # here, not at import: `tintype --help` stays light

    if isinstance(error, PATH_ERRORS + (StorageError,)):
        return True
    if isinstance(error, OSError) and error.errno in ADDRESS_ERRNOS:
        return True
    return isinstance(error, ValueError) and _raised_by_tintype(error)


def refusal_line(error: BaseException, args: argparse.Namespace) -> str:
    """The one line for a user error (`is_user_error`), naming the command for its --help."""
    if isinstance(error, OSError) and error.errno in ADDRESS_ERRNOS:
        where = f"port {args.port}" if getattr(args, "port", None) is not None else "the address"
        if error.errno == errno.EADDRINUSE:
            return f"error: cannot listen on {where}: it is in use; choose another --port (0 picks a free one)"
        return f"error: cannot listen on {where}: {error.strerror}; choose a --host address of this machine"
    if isinstance(error, OSError) and error.strerror and error.filename is not None:
        message = f"{error.strerror}: {error.filename}"  # not "[Errno 2] No such file or directory: 'x'"
    else:
        message = " ".join(str(error).split()) or type(error).__name__
    if ";" not in message:
        advice = next((text for kind, text in PATH_ADVICE.items() if isinstance(error, kind)), None)
        message += f"; {advice or f'see tintype {args.command} --help'}"
    return f"error: {message}"


def _raised_by_tintype(error: BaseException) -> bool:
    """Whether the innermost frame of the traceback is in one of our packages (a deliberate refusal)."""
    frame = None
    trace = error.__traceback__
    while trace is not None:
        frame, trace = trace.tb_frame, trace.tb_next
    return frame is not None and frame.f_globals.get("__name__", "").partition(".")[0] in OUR_PACKAGES
