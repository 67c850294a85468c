#!/bin/sh
# novajoin-enroll: join this instance to FreeIPA with the one-time password
# (OTP) that novajoin handed to nova for it.
#
# nova serves novajoin's answer under the key "join" of
# openstack/latest/vendor_data2.json, on the config drive and from the
# metadata service.  This script reads it (config drive first, the metadata
# service otherwise), runs `ipa-client-install -U` with it and says clearly
# why when there is nothing to enroll with.  It is POSIX sh on purpose: it
# runs on any image, before anything else is installed (no python, no jq).
#
# The OTP never reaches a log line, stdout, stderr or a file: it goes from
# the answer into a shell variable and from there onto ipa-client-install's
# command line, the only way ipa-client-install takes it unattended.  It is
# visible in the process list for as long as ipa-client-install runs (at
# first boot); it is single use and IPA discards it when the host enrolls.
# Never run this script with `sh -x`.
#
# Exit status:
#   0  enrolled now; already enrolled; or enrollment was not requested
#   1  cannot run here (no root, no ipa-client-install, bad environment)
#   2  no usable answer (config drive and metadata service unreadable or
#      malformed, or novajoin did not answer nova although asked)
#   3  novajoin refused to enroll this instance (the reason is logged)
#   4  IPA says this host is enrolled, but this machine is not
#   5  ipa-client-install failed
#
# Environment (for tests and unusual images; the defaults are right for a
# nova instance):
#   NOVAJOIN_CONFIG_DRIVE_DIR  a directory holding the config drive's files;
#                              set, no device is looked up or mounted
#   NOVAJOIN_METADATA_URL      vendor_data2.json URL of the metadata service
#   NOVAJOIN_ATTEMPTS          metadata service attempts (default 10)
#   NOVAJOIN_RETRY_MAX_SLEEP   longest pause between attempts, s (default 30)
#   NOVAJOIN_HTTP_TIMEOUT      per-request timeout, s (default 10)
#   NOVAJOIN_IPA_DEFAULT_CONF  IPA client's config (default /etc/ipa/default.conf)
#   NOVAJOIN_IPA_SYSRESTORE    IPA client's backup directory
#                              (default /var/lib/ipa-client/sysrestore)
#   NOVAJOIN_MKHOMEDIR         1 (default): pass --mkhomedir; 0: do not
#   NOVAJOIN_INSTALL_CLIENT    1 (default): install the IPA client package
#                              when ipa-client-install is missing; 0: do not
#   NOVAJOIN_LOG_FILE          also append log lines to this file
#   NOVAJOIN_REQUIRE_ROOT      1 (default): refuse to run as non-root

umask 077
PATH="${PATH:-/usr/bin:/bin}:/usr/local/sbin:/usr/sbin:/sbin:/usr/local/bin:/usr/bin:/bin"
export PATH
LC_ALL=C
export LC_ALL

PROG=novajoin-enroll
METADATA_URL=${NOVAJOIN_METADATA_URL:-http://169.254.169.254/openstack/latest/vendor_data2.json}
ATTEMPTS=${NOVAJOIN_ATTEMPTS:-10}
MAX_SLEEP=${NOVAJOIN_RETRY_MAX_SLEEP:-30}
HTTP_TIMEOUT=${NOVAJOIN_HTTP_TIMEOUT:-10}
IPA_DEFAULT_CONF=${NOVAJOIN_IPA_DEFAULT_CONF:-/etc/ipa/default.conf}
IPA_SYSRESTORE=${NOVAJOIN_IPA_SYSRESTORE:-/var/lib/ipa-client/sysrestore}
MKHOMEDIR=${NOVAJOIN_MKHOMEDIR:-1}
INSTALL_CLIENT=${NOVAJOIN_INSTALL_CLIENT:-1}
LOG_FILE=${NOVAJOIN_LOG_FILE:-}
REQUIRE_ROOT=${NOVAJOIN_REQUIRE_ROOT:-1}
MAX_DOC_BYTES=262144

WORK=
MOUNTED=

log() {
    # $1: priority (info, warning, err); the rest: the message.  No secret is
    # ever passed here: callers log names and reasons, never the answer.
    prio=$1
    shift
    printf '%s: %s\n' "$PROG" "$*" >&2
    if [ -n "$LOG_FILE" ]; then
        printf '%s %s[%s]: %s: %s\n' "$(date '+%Y-%m-%dT%H:%M:%S' 2>/dev/null)" \
            "$PROG" "$$" "$prio" "$*" >>"$LOG_FILE" 2>/dev/null
    fi
    if command -v logger >/dev/null 2>&1; then
        logger -t "$PROG" -p "user.$prio" -- "$*" 2>/dev/null || :
    fi
}

die() {
    # $1: exit status; the rest: the message.
    status=$1
    shift
    log err "$@"
    exit "$status"
}

# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
    if [ -n "$MOUNTED" ]; then
        umount "$MOUNTED" 2>/dev/null || :
    fi
    if [ -n "$WORK" ]; then
        rm -rf "$WORK"
    fi
}

is_count() {
    case $1 in
        '' | *[!0-9]*) return 1 ;;
    esac
    return 0
}

# One awk program reads a whole JSON document and prints the scalar members
# of one top-level object ("join" or "meta") as NAME=VALUE lines.  It is a
# complete validating parser: anything that is not exactly one well-formed
# JSON object (trailing data, bad escapes, raw control characters, ...) makes
# it exit 3 with a reason on stderr and print nothing.  The reasons never
# quote the document.
# shellcheck disable=SC2016  # an awk program: its $ are awk's
JSON_AWK='
function fail(why) {
    if (!failed) printf "malformed JSON at byte %d: %s\n", p, why > "/dev/stderr"
    failed = 1
    p = n + 1
    exit 3
}
function ch() { return substr(s, p, 1) }
function skipws(  c) {
    while (p <= n) {
        c = substr(s, p, 1)
        if (c != " " && c != "\t" && c != "\n" && c != "\r") return
        p++
    }
}
function hexval(h,  i, v, d) {
    v = 0
    for (i = 1; i <= 4; i++) {
        d = index("0123456789abcdef", tolower(substr(h, i, 1)))
        if (d == 0) fail("bad \\u escape")
        v = v * 16 + d - 1
    }
    return v
}
function utf8(cp) {
    if (cp < 128) return sprintf("%c", cp)
    if (cp < 2048)
        return sprintf("%c%c", 192 + int(cp / 64), 128 + cp % 64)
    if (cp < 65536)
        return sprintf("%c%c%c", 224 + int(cp / 4096), 128 + int(cp / 64) % 64, 128 + cp % 64)
    return sprintf("%c%c%c%c", 240 + int(cp / 262144), 128 + int(cp / 4096) % 64,
                   128 + int(cp / 64) % 64, 128 + cp % 64)
}
# Sets sval (the decoded string) and sctl (1 when it holds a control char).
function parse_string(  c, e, out, start, cp, lo) {
    if (ch() != "\"") fail("string expected")
    p++
    out = ""
    sctl = 0
    start = p
    while (1) {
        if (p > n) fail("unterminated string")
        c = substr(s, p, 1)
        if (c == "\"") {
            out = out substr(s, start, p - start)
            p++
            sval = out
            return
        }
        if (c < " ") fail("control character in string")
        if (c == "\\") {
            out = out substr(s, start, p - start)
            e = substr(s, p + 1, 1)
            if (e == "\"" || e == "\\" || e == "/") { out = out e; p += 2 }
            else if (e == "b") { out = out "\b"; sctl = 1; p += 2 }
            else if (e == "f") { out = out "\f"; sctl = 1; p += 2 }
            else if (e == "n") { out = out "\n"; sctl = 1; p += 2 }
            else if (e == "r") { out = out "\r"; sctl = 1; p += 2 }
            else if (e == "t") { out = out "\t"; sctl = 1; p += 2 }
            else if (e == "u") {
                if (p + 5 > n) fail("bad \\u escape")
                cp = hexval(substr(s, p + 2, 4))
                p += 6
                if (cp >= 55296 && cp < 56320 && substr(s, p, 2) == "\\u") {
                    lo = hexval(substr(s, p + 2, 4))
                    if (lo >= 56320 && lo < 57344) {
                        cp = 65536 + (cp - 55296) * 1024 + (lo - 56320)
                        p += 6
                    }
                }
                if (cp >= 55296 && cp < 57344) cp = 63
                if (cp < 32 || cp == 127) sctl = 1
                if (cp == 0) cp = 32
                out = out utf8(cp)
            }
            else fail("bad escape")
            start = p
            continue
        }
        if (c == "\177") sctl = 1
        p++
    }
}
function parse_number(  start, tok) {
    start = p
    while (p <= n && index("+-.0123456789eE", substr(s, p, 1)) > 0) p++
    tok = substr(s, start, p - start)
    if (tok !~ /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/) fail("bad number")
}
# Parses any value; returns its type: s, b, null, n, o, a.
function parse_value(depth,  c) {
    if (depth > 64) fail("nested too deeply")
    skipws()
    c = ch()
    if (c == "{") { parse_object(depth, 0); return "o" }
    if (c == "[") { parse_array(depth); return "a" }
    if (c == "\"") { parse_string(); return "s" }
    if (substr(s, p, 4) == "true") { p += 4; sval = "true"; sctl = 0; return "b" }
    if (substr(s, p, 5) == "false") { p += 5; sval = "false"; sctl = 0; return "b" }
    if (substr(s, p, 4) == "null") { p += 4; return "null" }
    if (c == "-" || (c >= "0" && c <= "9")) { parse_number(); return "n" }
    if (p > n) fail("unexpected end")
    fail("unexpected character")
}
function parse_array(depth) {
    p++
    skipws()
    if (ch() == "]") { p++; return }
    while (1) {
        parse_value(depth + 1)
        skipws()
        if (ch() == ",") { p++; continue }
        if (ch() == "]") { p++; return }
        fail("expected , or ]")
    }
}
# wanted: 1 when this object is the one whose members are printed.
function parse_object(depth, wanted,  key, t) {
    if (ch() != "{") fail("object expected")
    p++
    skipws()
    if (ch() == "}") { p++; return }
    while (1) {
        skipws()
        parse_string()
        key = sval
        skipws()
        if (ch() != ":") fail("expected :")
        p++
        skipws()
        if (depth == 1 && key == want) {
            if (found) fail("duplicate key")
            if (ch() != "{") fail("the wanted member is not an object")
            found = 1
            parse_object(depth + 1, 1)
        } else if (wanted && index(keys, " " key " ") > 0) {
            if (key in got) fail("duplicate key")
            got[key] = 1
            t = parse_value(depth + 1)
            if (t == "s" || t == "b") {
                if (sctl && key != "error") fail("control character in a field")
                if (sctl) gsub(/[\001-\037\177]/, " ", sval)
                vals[key] = sval
                order[++nout] = key
            } else if (t != "null") {
                fail("field is not a string or boolean")
            }
        } else {
            parse_value(depth + 1)
        }
        skipws()
        if (ch() == ",") { p++; continue }
        if (ch() == "}") { p++; return }
        fail("expected , or }")
    }
}
{ s = s $0 "\n" }
END {
    if (failed) exit 3
    n = length(s)
    p = 1
    skipws()
    if (ch() != "{") fail("the document is not an object")
    parse_object(1, 0)
    skipws()
    if (p <= n) fail("trailing data")
    for (i = 1; i <= nout; i++) print order[i] "=" vals[order[i]]
}
'

# json_members FILE OBJECT "KEY ..." > OUT: NAME=VALUE lines (see above).
json_members() {
    awk -v want="$2" -v keys=" $3 " "$JSON_AWK" <"$1"
}

already_enrolled() {
    # What ipa-client-install itself checks before it refuses to run: its
    # config file, or files it backed up while configuring this machine.
    [ -f "$IPA_DEFAULT_CONF" ] && return 0
    [ -s "$IPA_SYSRESTORE/sysrestore.index" ] && return 0
    return 1
}

jitter() {
    # A pause for retry $1: random in [1, min(2^$1, MAX_SLEEP)] so that
    # instances of a boot storm do not retry in step.
    cap=1
    i=0
    while [ "$i" -lt "$1" ] && [ "$cap" -lt "$MAX_SLEEP" ]; do
        cap=$((cap * 2))
        i=$((i + 1))
    done
    [ "$cap" -gt "$MAX_SLEEP" ] && cap=$MAX_SLEEP
    [ "$cap" -le 0 ] && { echo 0; return; }
    r=$(od -An -N2 -tu2 /dev/urandom 2>/dev/null | tr -d ' \n')
    is_count "$r" || r=$(awk 'BEGIN { srand(); print int(rand() * 65536) }')
    echo $((1 + r % cap))
}

# fetch URL FILE: 0 and the body in FILE on HTTP 200; 4 on HTTP 404; 1
# otherwise, with the reason in FETCH_ERROR.
fetch() {
    FETCH_ERROR=
    rm -f "$2"
    if command -v curl >/dev/null 2>&1; then
        code=$(curl -sS --noproxy '*' --connect-timeout "$HTTP_TIMEOUT" \
            --max-time $((HTTP_TIMEOUT * 2)) --max-filesize "$MAX_DOC_BYTES" \
            -o "$2" -w '%{http_code}' "$1" 2>"$WORK/curl.err")
        rc=$?
        if [ "$rc" -ne 0 ]; then
            FETCH_ERROR="$(head -n 1 "$WORK/curl.err" 2>/dev/null) (curl exit $rc)"
            return 1
        fi
        case $code in
            200) return 0 ;;
            404) FETCH_ERROR="HTTP 404"; return 4 ;;
            *) FETCH_ERROR="HTTP $code"; return 1 ;;
        esac
    elif command -v wget >/dev/null 2>&1; then
        if http_proxy='' https_proxy='' HTTP_PROXY='' wget -q -T "$HTTP_TIMEOUT" \
            -O "$2" "$1" 2>"$WORK/wget.err"; then
            return 0
        fi
        FETCH_ERROR="wget could not get $1"
        return 1
    fi
    die 1 "neither curl nor wget is installed: cannot read the metadata service"
}

# parse_answer FILE: sets J_* from the "join" member; 0 when well-formed.
parse_answer() {
    J_HOSTNAME=''
    J_REALM=''
    J_OTP=''
    J_DOMAIN=''
    J_SERVER=''
    J_ENROLLED=''
    J_ERROR=''
    if ! json_members "$1" join "hostname krb_realm ipaotp ipa_domain ipa_server enrolled error" \
        >"$WORK/join" 2>"$WORK/json.err"; then
        PARSE_ERROR=$(head -n 1 "$WORK/json.err")
        return 1
    fi
    while IFS= read -r line; do
        value=${line#*=}
        case $line in
            hostname=*) J_HOSTNAME=$value ;;
            krb_realm=*) J_REALM=$value ;;
            ipaotp=*) J_OTP=$value ;;
            ipa_domain=*) J_DOMAIN=$value ;;
            ipa_server=*) J_SERVER=$value ;;
            enrolled=*) J_ENROLLED=$value ;;
            error=*) J_ERROR=$value ;;
        esac
    done <"$WORK/join"
    # The answer may hold the OTP: keep it in no file longer than needed.
    rm -f "$WORK/join" "$1"
    return 0
}

answer_is_empty() {
    [ -z "$J_HOSTNAME$J_OTP$J_ENROLLED$J_ERROR" ]
}

# enroll_requested FILE: 0 when meta_data.json in FILE has ipa_enroll=true
# in the instance metadata (an image property cannot be seen from here).
enroll_requested() {
    json_members "$1" meta ipa_enroll >"$WORK/meta" 2>/dev/null || return 1
    flag=$(sed -n 's/^ipa_enroll=//p' "$WORK/meta" | tr '[:upper:]' '[:lower:]' | tr -d ' \t')
    [ "$flag" = true ]
}

# Reads the answer from a config drive directory $1.  0: J_* set; 1: the
# directory has no vendor_data2.json (use the metadata service).
from_config_drive() {
    doc=$1/openstack/latest/vendor_data2.json
    if [ ! -f "$doc" ]; then
        log info "config drive has no openstack/latest/vendor_data2.json"
        return 1
    fi
    cp "$doc" "$WORK/vendor_data2.json" || die 2 "cannot read $doc"
    if [ -f "$1/openstack/latest/meta_data.json" ]; then
        cp "$1/openstack/latest/meta_data.json" "$WORK/meta_data.json" 2>/dev/null || :
    fi
    parse_answer "$WORK/vendor_data2.json" ||
        die 2 "the config drive's vendor_data2.json is not valid: $PARSE_ERROR"
    SOURCE="config drive"
    return 0
}

find_config_drive_device() {
    for label in config-2 CONFIG-2; do
        if [ -e "/dev/disk/by-label/$label" ]; then
            echo "/dev/disk/by-label/$label"
            return 0
        fi
    done
    if command -v blkid >/dev/null 2>&1; then
        for label in config-2 CONFIG-2; do
            dev=$(blkid -t "LABEL=$label" -o device 2>/dev/null | head -n 1)
            if [ -n "$dev" ]; then
                echo "$dev"
                return 0
            fi
        done
    fi
    return 1
}

# 0 with J_* set from the config drive; 1 when there is none to read.
try_config_drive() {
    if [ -n "${NOVAJOIN_CONFIG_DRIVE_DIR+set}" ]; then
        [ -d "$NOVAJOIN_CONFIG_DRIVE_DIR" ] || return 1
        from_config_drive "$NOVAJOIN_CONFIG_DRIVE_DIR"
        return
    fi
    dev=$(find_config_drive_device) || return 1
    mkdir "$WORK/config-drive" || return 1
    if ! mount -o ro "$dev" "$WORK/config-drive" 2>"$WORK/mount.err"; then
        log warning "cannot mount the config drive $dev: $(head -n 1 "$WORK/mount.err")"
        return 1
    fi
    MOUNTED=$WORK/config-drive
    log info "reading the config drive $dev"
    from_config_drive "$WORK/config-drive"
    rc=$?
    umount "$MOUNTED" 2>/dev/null && MOUNTED=
    return $rc
}

# Sets J_* from the metadata service, retrying with jitter; dies when it
# cannot get a usable answer.
from_metadata_service() {
    meta_url=${METADATA_URL%/*}/meta_data.json
    attempt=1
    while :; do
        why=
        fetch "$METADATA_URL" "$WORK/vendor_data2.json"
        case $? in
            0)
                if ! parse_answer "$WORK/vendor_data2.json"; then
                    why="the answer is not valid: $PARSE_ERROR"
                elif answer_is_empty; then
                    if fetch "$meta_url" "$WORK/meta_data.json" &&
                        enroll_requested "$WORK/meta_data.json"; then
                        why="no answer from novajoin under \"join\" although ipa_enroll=true"
                    else
                        break
                    fi
                else
                    break
                fi
                ;;
            4)
                die 2 "the metadata service has no vendor_data2.json ($METADATA_URL):" \
                    "nova's DynamicJSON vendordata provider is not configured"
                ;;
            *) why="cannot read $METADATA_URL: $FETCH_ERROR" ;;
        esac
        if [ "$attempt" -ge "$ATTEMPTS" ]; then
            die 2 "giving up after $attempt attempts: $why"
        fi
        pause=$(jitter "$attempt")
        log warning "attempt $attempt of $ATTEMPTS: $why; retrying in ${pause}s"
        sleep "$pause"
        attempt=$((attempt + 1))
    done
    SOURCE="metadata service"
}

valid_dns_name() {
    case $1 in
        '' | .* | *. | *..* | *[!A-Za-z0-9.-]*) return 1 ;;
    esac
    [ "${#1}" -le 253 ]
}

install_client() {
    [ "$INSTALL_CLIENT" = 1 ] ||
        die 1 "ipa-client-install is not installed (and NOVAJOIN_INSTALL_CLIENT=0)"
    log info "ipa-client-install is missing: installing the IPA client package"
    if command -v dnf >/dev/null 2>&1; then
        dnf -y install /usr/sbin/ipa-client-install >&2 || dnf -y install freeipa-client >&2
    elif command -v yum >/dev/null 2>&1; then
        yum -y install /usr/sbin/ipa-client-install >&2 || yum -y install ipa-client >&2
    elif command -v apt-get >/dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get -y install freeipa-client >&2 || {
            DEBIAN_FRONTEND=noninteractive apt-get update >&2 &&
                DEBIAN_FRONTEND=noninteractive apt-get -y install freeipa-client >&2
        }
    elif command -v zypper >/dev/null 2>&1; then
        zypper --non-interactive install freeipa-client >&2
    fi
    command -v ipa-client-install >/dev/null 2>&1 ||
        die 1 "ipa-client-install is not installed and installing the IPA client package failed"
}

main() {
    if [ "$#" -gt 0 ]; then
        case $1 in
            -h | --help)
                sed -n '2,/^$/s/^# \{0,1\}//p' "$0"
                exit 0
                ;;
            *) die 1 "unexpected argument; usage: $PROG (no arguments)" ;;
        esac
    fi
    for n in "$ATTEMPTS" "$MAX_SLEEP" "$HTTP_TIMEOUT"; do
        is_count "$n" || die 1 "NOVAJOIN_ATTEMPTS, NOVAJOIN_RETRY_MAX_SLEEP and" \
            "NOVAJOIN_HTTP_TIMEOUT must be whole numbers"
    done
    [ "$ATTEMPTS" -ge 1 ] || ATTEMPTS=1
    [ "$HTTP_TIMEOUT" -ge 1 ] || HTTP_TIMEOUT=1

    if already_enrolled; then
        log info "this machine is already an IPA client ($IPA_DEFAULT_CONF exists); nothing to do"
        exit 0
    fi
    if [ "$REQUIRE_ROOT" = 1 ] && [ "$(id -u)" != 0 ]; then
        die 1 "must run as root (ipa-client-install configures the whole system)"
    fi

    WORK=$(mktemp -d "${TMPDIR:-/tmp}/novajoin-enroll.XXXXXX") ||
        die 1 "cannot create a private temporary directory"
    trap cleanup EXIT
    trap 'exit 130' INT TERM HUP

    SOURCE=
    if ! try_config_drive; then
        from_metadata_service
    fi

    if answer_is_empty; then
        if [ "$SOURCE" = "config drive" ] && [ -f "$WORK/meta_data.json" ] &&
            enroll_requested "$WORK/meta_data.json"; then
            die 2 "ipa_enroll=true but the config drive holds no answer from novajoin:" \
                "novajoin-server failed or timed out when nova built the config drive" \
                "(see its log)"
        fi
        log info "no enrollment answer from novajoin ($SOURCE): ipa_enroll was not" \
            "requested for this instance; nothing to do"
        exit 0
    fi

    host=${J_HOSTNAME:-"(no hostname given)"}
    if [ -n "$J_ERROR" ]; then
        die 3 "novajoin refused to enroll $host: $J_ERROR"
    fi
    if [ -z "$J_OTP" ] && [ "$J_ENROLLED" = true ]; then
        die 4 "IPA says $host is already enrolled, but this machine is not an IPA" \
            "client: it was probably rebuilt or re-imaged while IPA still holds the old" \
            "host keys. An IPA admin must revoke them (ipa host-disable $host); novajoin" \
            "then issues a new one-time password on the next request (re-run this script)."
    fi
    if [ -z "$J_OTP" ]; then
        die 3 "novajoin gave no one-time password for $host and no reason"
    fi

    valid_dns_name "$J_HOSTNAME" || die 2 "novajoin's answer has no valid hostname"
    case $J_REALM in
        '' | *[!A-Za-z0-9._-]*) die 2 "novajoin's answer has no valid krb_realm" ;;
    esac
    if [ -n "$J_DOMAIN" ]; then
        valid_dns_name "$J_DOMAIN" || die 2 "novajoin's answer has an invalid ipa_domain"
    fi
    if [ -n "$J_SERVER" ]; then
        valid_dns_name "$J_SERVER" || die 2 "novajoin's answer has an invalid ipa_server"
    fi
    [ "${#J_OTP}" -le 1024 ] || die 2 "novajoin's one-time password is implausibly long"

    command -v ipa-client-install >/dev/null 2>&1 || install_client

    # The command line without the OTP, for the log.
    shown="ipa-client-install -U --hostname $J_HOSTNAME --realm $J_REALM"
    set -- -U --hostname "$J_HOSTNAME" --realm "$J_REALM"
    if [ -n "$J_DOMAIN" ]; then
        set -- "$@" --domain "$J_DOMAIN"
        shown="$shown --domain $J_DOMAIN"
    fi
    if [ -n "$J_SERVER" ]; then
        set -- "$@" --server "$J_SERVER"
        shown="$shown --server $J_SERVER"
    fi
    if [ "$MKHOMEDIR" = 1 ]; then
        set -- "$@" --mkhomedir
        shown="$shown --mkhomedir"
    fi
    log info "enrolling $J_HOSTNAME in $J_REALM (answer from the $SOURCE): $shown -w <redacted>"
    ipa-client-install "$@" -w "$J_OTP"
    rc=$?
    J_OTP=
    case $rc in
        0) log info "enrolled $J_HOSTNAME in $J_REALM" ;;
        3) log info "ipa-client-install says this machine is already an IPA client" ;;
        *) die 5 "ipa-client-install failed (exit $rc); see /var/log/ipaclient-install.log" ;;
    esac
    exit 0
}

main "$@"
