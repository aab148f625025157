#!/usr/bin/env bash
# Make sure a Java runtime works, for pyspark (the Spark tag runner and its tests).
#
# Why: Spark runs in a JVM; pyspark 4 needs Java 17 or newer. On a fresh Debian machine (we run
# as root there) this installs Debian's default-jre-headless — no GUI libraries, nothing from
# outside the distribution — only when `java -version` fails. Progress goes to stderr; the last
# line on stdout is JAVA_HOME, so `export JAVA_HOME="$(bash scripts/ensure_java.sh)"` works.
set -euo pipefail

say() { echo "ensure_java: $*" >&2; }

if ! java -version >/dev/null 2>&1; then
    if [[ "$(id -u)" -ne 0 ]]; then
        say "java is missing and installing it needs root: apt-get install default-jre-headless"
        exit 1
    fi
    say "java is missing; installing default-jre-headless with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update >&2
    apt-get install -y --no-install-recommends default-jre-headless >&2
fi

java -version 2>&1 | head -n 1 >&2
java_bin="$(readlink -f "$(command -v java)")"
echo "${java_bin%/bin/java}"
