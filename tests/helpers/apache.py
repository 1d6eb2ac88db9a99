"""Our own Apache httpd (Debian's apache2 binary, never the system service): a temporary configuration on a
free loopback port serving one folder with AllowOverride All, so that the folder's .htaccess decides."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from bench.common import stop_process
from tests.helpers.servers import free_port, wait_for_http
from tests.helpers.shared import require_program

MODULES = Path("/usr/lib/apache2/modules")
_LOADED = ("mpm_event", "authz_core", "dir", "mime", "rewrite", "negotiation", "headers", "alias", "env")


def apache_binary() -> str:
    found = "/usr/sbin/apache2" if Path("/usr/sbin/apache2").exists() else shutil.which("apache2")
    return require_program(found, "Apache httpd", "apt-get install apache2")


@contextlib.contextmanager
def apache(root: Path, work: Path, *, port: int | None = None, url_path: str = "/") -> Iterator[str]:
    """Serve `root` at http://127.0.0.1:PORT{url_path}; yields the base URL. The error log is shown on failure."""
    binary = apache_binary()
    port = port or free_port()
    work.mkdir(parents=True, exist_ok=True)
    loads = "\n".join(f"LoadModule {name}_module {MODULES}/mod_{name}.so" for name in _LOADED)
    mount = f'Alias "{url_path.rstrip("/")}" "{root}"' if url_path != "/" else ""
    config = work / "httpd.conf"
    config.write_text(f"""ServerRoot "{work}"
{loads}
Listen 127.0.0.1:{port}
ServerName 127.0.0.1
PidFile "{work}/httpd.pid"
ErrorLog "{work}/error.log"
LogLevel warn
DefaultRuntimeDir "{work}"
Mutex file:{work}
TypesConfig /etc/mime.types
DocumentRoot "{root if url_path == '/' else work}"
{mount}
<Directory "{root}">
  AllowOverride All
  Require all granted
</Directory>
<Directory "{work}">
  Require all granted
</Directory>
""")
    env = {**os.environ, "APACHE_RUN_DIR": str(work), "APACHE_LOCK_DIR": str(work), "APACHE_LOG_DIR": str(work)}
    process = subprocess.Popen([binary, "-f", str(config), "-DFOREGROUND"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}{url_path}"
    try:
        try:
            wait_for_http(base, process, 20, "apache2")
        except RuntimeError:
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            raise RuntimeError(f"apache2 did not start: {output}") from None
        yield base
    finally:
        stop_process(process)
        log = work / "error.log"
        if log.is_file() and log.stat().st_size:
            print(log.read_text(errors="replace")[-4000:])
