#!/bin/sh
# Seeds the (gitignored) fuzz corpora and writes the libFuzzer dictionaries. Run from anywhere:
#   fuzz/seed.sh [wbxml-dir [captures-dir…]]
# wbxml-dir (default /work/shared/corpus/wbxml): `decode` and `xml`.
# captures-dirs (default /work/shared/corpus/captures and samples/): `saz` (archives of at most
# 64 KiB), `http` and `saz_meta` from
# the raw/ entries of every *.saz (encrypted archives are skipped), `har` from every *.har.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=${1:-/work/shared/corpus/wbxml}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- /work/shared/corpus/captures "$here/../samples"
mkdir -p "$here/corpus/decode" "$here/corpus/xml"
cp -f "$src"/*.wbxml "$here/corpus/decode/"
cp -f "$src"/*.norm.xml "$here/corpus/xml/"
chmod -R u+w "$here/corpus"

# A few hand-written XML snippets for forms the shared corpus lacks.
i=0
while IFS= read -r line; do
    i=$((i + 1))
    printf '%s' "$line" > "$here/corpus/xml/snippet-$i.xml"
done <<'SNIPPETS'
<?xml version="1.0" encoding="utf-8"?><Sync xmlns="AirSync:"><Unknown page="25" token="0x3F"/><Unknown page="3" token="0x05">x</Unknown></Sync>
<Sync xmlns="AirSync" xmlns:email2="Email2"><unknown.25.0x3F>1</unknown.25.0x3F><email2:ConversationId enc="base64">qw==</email2:ConversationId></Sync>
<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>1</SyncKey><GetChanges/><Data xmlns="AirSyncBase:"> a &amp; b&#xD;&#x1;</Data><ConversationId xmlns="Email2:" encoding="hex">AB01</ConversationId></Collection></Collections></Sync>
<Sync xmlns="AirSync:"> mixed <SyncKey>1</SyncKey><![CDATA[<cdata>]]><!-- c --><?pi x?>tail</Sync>
<!DOCTYPE x><SendMail xmlns="ComposeMail:"><Mime encoding="base64">/w AB</Mime><SaveInSentItems/></SendMail>
SNIPPETS

# Dictionary: markup pieces, every namespace and every tag name of the code pages.
dict="$here/corpus/xml.dict"
{
    for t in '<?xml version="1.0" encoding="utf-8"?>' ' encoding="base64"' ' encoding="hex"' \
        ' enc="base64"' '<Unknown page="' '" token="0x' '</Unknown>' '<unknown.' '.0x3F' \
        '<![CDATA[' ']]>' '<!--' '-->' '&#x' '&amp;' '&lt;' '/>' '</' ' xmlns="' ' xmlns:'; do
        printf '"%s"\n' "$(printf '%s' "$t" | sed 's/\\/\\\\/g; s/"/\\"/g')"
    done
    for f in "$here"/../wbxml-codepages/*.tsv; do
        awk -F'\t' '
            $1 == "namespace" { printf "\" xmlns=\\\"%s:\\\"\"\n", $2 }
            $1 == "page"      { printf "\"page=\\\"%s\\\"\"\n", $2 }
            $1 ~ /^0x/ && $2 != "" { printf "\"<%s>\"\n\"</%s>\"\n", $2, $2 }
        ' "$f"
    done
} | sort -u > "$dict"

echo "decode: $(ls "$here/corpus/decode" | wc -l) files, xml: $(ls "$here/corpus/xml" | wc -l) files," \
    "dictionary: $(wc -l < "$dict") entries"

# ------------------------------------------------------------------------------------------
# Capture targets: http (raw/N_c.txt, raw/N_s.txt), saz_meta (raw/N_m.xml), har (*.har).
mkdir -p "$here/corpus/http" "$here/corpus/saz_meta" "$here/corpus/har"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
saz_ok=0 saz_skipped=0
for dir in "$@"; do
    for saz in "$dir"/*.saz; do
        [ -f "$saz" ] || continue
        name=$(basename "$saz" .saz)
        # Encrypted archives (AES zip, e.g. samples/*-encrypted.saz, password `easlens`) are
        # skipped: unzip cannot read them and the plain copies already seed the same sessions.
        if ! unzip -qq -o "$saz" 'raw/*' -d "$tmp/$name" </dev/null >/dev/null 2>&1; then
            echo "skipped $saz (encrypted or unreadable)" >&2
            saz_skipped=$((saz_skipped + 1))
            continue
        fi
        saz_ok=$((saz_ok + 1))
        for f in "$tmp/$name"/raw/*_c.txt "$tmp/$name"/raw/*_s.txt; do
            [ -f "$f" ] && cp -f "$f" "$here/corpus/http/$name--$(basename "$f")"
        done
        for f in "$tmp/$name"/raw/*_m.xml; do
            [ -f "$f" ] && cp -f "$f" "$here/corpus/saz_meta/$name--$(basename "$f")"
        done
    done
done

# Hand-written HTTP messages for forms the captures lack (chunked, compressed, LF-only, folded,
# base64 EAS query, Fiddler placeholders).
printf 'POST /Microsoft-Server-ActiveSync?jAkJAAAAAAACAAABBHRlc3QHaVBob25lAQJDbw== HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n\003\001j\000\r\n0\r\n\r\n' \
    > "$here/corpus/http/snippet-1.txt"
printf 'HTTP/1.1 200 OK\nContent-Encoding: gzip, deflate\nTransfer-Encoding: gzip, chunked\nX-Folded: a\n  b\nbroken\n\n1;ext=1\nA\n0\nTrailer: x\n\n' \
    > "$here/corpus/http/snippet-2.txt"
printf 'GET http://MISSING-REQUEST/? HTTP/0.0\r\n\r\n' > "$here/corpus/http/snippet-3.txt"
printf 'OPTIONS https://mail.example.com/Microsoft-Server-ActiveSync?Cmd=Sync&User=contoso%%5Cjdoe&DeviceId=ABC&DeviceType=iPhone&SaveInSent=T#frag HTTP/1.1\r\nContent-Encoding: br\r\n\r\n\013\001\200abc\003' \
    > "$here/corpus/http/snippet-4.txt"
printf 'HTTP/1.1 449 Retry after sending a PROVISION command\r\nContent-Encoding: zstd\r\n\r\n\050\265\057\375\000\000\011\000\000abc' \
    > "$here/corpus/http/snippet-5.txt"
dict="$here/corpus/http.dict"
{
    # libFuzzer dictionaries know only \\, \" and \xNN escapes: CR LF is \x0d\x0a.
    for t in 'HTTP/1.1' 'HTTP/1.0' 'HTTP/0.0' 'POST ' 'GET ' 'OPTIONS ' 'CONNECT ' ' HTTP/1.1\x0d\x0a' '\x0d\x0a' \
        '\x0d\x0a\x0d\x0a' '\x0a\x0a' 'Transfer-Encoding: chunked' 'Content-Encoding: ' 'gzip' 'x-gzip' 'deflate' \
        'br' 'zstd' 'identity' 'chunked' 'Content-Length: ' 'Content-Type: application/vnd.ms-sync.wbxml' \
        '/Microsoft-Server-ActiveSync' '?Cmd=' '&User=' '&DeviceId=' '&DeviceType=' '&SaveInSent=T' \
        '&CollectionId=' '&ItemId=' '&AttachmentName=' '&LongId=' '&Occurrence=' 'https://' '0\x0d\x0a\x0d\x0a' \
        ';ext=' '\x1f\x8b\x08\x00' '\x78\x9c' '\x28\xb5\x2f\xfd' '\x03\x01\x6a\x00'; do
        printf '"%s"\n' "$t"
    done
} > "$dict"

# saz_meta: timer and BitFlags values on their own (parse_timer/parse_bit_flags), and a dictionary
# of every element, attribute and flag name the metadata files use.
i=0
while IFS= read -r line; do
    i=$((i + 1))
    printf '%s' "$line" > "$here/corpus/saz_meta/snippet-$i.txt"
done <<'SNIPPETS'
2025-08-30T11:33:29.356942-07:00
2025-08-30T11:34:28.6859373Z
2025-08-30T11:34:28
0001-01-01T00:00:00
0x2300
4000019
3,643
<?xml version="1.0" encoding="utf-8"?><Session SID="1" BitFlags="0x1" Aborted="true"><SessionTimers ClientConnected="2025-08-30T11:33:29-07:00"/><TunnelInfo BytesEgress="0"/><SessionFlags><SessionFlag N="X-ClientIP" V="::1"/><SessionFlag N="x-responsebodytransferlength" V="206&#160;345"/></SessionFlags></Session>
SNIPPETS
dict="$here/corpus/saz_meta.dict"
{
    for t in '<?xml version="1.0" encoding="utf-8"?>' '0001-01-01T00:00:00' 'T00:00:00.0000000' \
        '-07:00' '+14:00' 'Z' '0x' '&#160;' '&amp;' '<![CDATA[' ']]>' '<!--' '-->' '/>' '</'; do
        printf '"%s"\n' "$(printf '%s' "$t" | sed 's/\\/\\\\/g; s/"/\\"/g')"
    done
    cat "$here"/corpus/saz_meta/*--*_m.xml 2>/dev/null |
        grep -oE '<[A-Za-z]+|[A-Za-z]+="|N="[^"]*"' |
        sed 's/\\/\\\\/g; s/"/\\"/g; s/^.*$/"&"/'
} | sort -u > "$dict"

# har: every HAR file whole (when small enough for -max_len=65536), and each entry of every HAR
# file as a HAR of its own (so that the large files still seed the corpus), plus a dictionary.
for dir in "$@"; do
    for f in "$dir"/*.har; do
        [ -f "$f" ] || continue
        [ "$(wc -c < "$f")" -le 65536 ] && cp -f "$f" "$here/corpus/har/"
    done
done
if command -v python3 >/dev/null 2>&1; then
    python3 - "$here/corpus/har" "$@" <<'PY'
import glob, json, os, sys
out, dirs = sys.argv[1], sys.argv[2:]
for d in dirs:
    for path in sorted(glob.glob(os.path.join(d, "*.har"))):
        try:
            with open(path, encoding="utf-8-sig") as f:
                har = json.load(f)
            log = har["log"]
            entries = log["entries"]
        except Exception:
            continue
        name = os.path.basename(path)[:-4]
        for i, e in enumerate(entries):
            one = {"log": {"version": log.get("version", "1.2"), "creator": log.get("creator"), "entries": [e]}}
            text = json.dumps(one, separators=(",", ":"))
            if len(text) <= 65536:
                with open(os.path.join(out, f"{name}--{i}.har"), "w") as f:
                    f.write(text)
PY
else
    echo "python3 not found: the har corpus has the whole (small) files only" >&2
fi
dict="$here/corpus/har.dict"
{
    for t in log version creator name entries pages pageref startedDateTime time request response \
        method url httpVersion headers value queryString cookies postData mimeType text params \
        encoding comment bodySize headersSize status statusText content size compression \
        redirectURL cache timings serverIPAddress _clientIPAddress clientIPAddress _clientAddress \
        _error base64 Content-Encoding Transfer-Encoding Content-Type Content-Length chunked gzip \
        deflate br zstd :authority :scheme :path host https application/vnd.ms-sync.wbxml \
        application/vnd.ms-sync application/x-www-form-urlencoded; do
        printf '"\\"%s\\""\n' "$t"
    done
    for t in '{"log":{"version":"1.2","entries":[' ']}}' '":' '","' 'null' 'true' '-1' '1.2' \
        '\\udc80' '\\udcff' '\\ufffd' '\\u0003\\u0001j\\u0000' 'AwFqAA==' 'H4sI' '\\r\\n' \
        'https://mail.example.com/Microsoft-Server-ActiveSync?Cmd=Sync' '2025-08-30T11:33:29.356Z'; do
        printf '"%s"\n' "$(printf '%s' "$t" | sed 's/"/\\"/g')"
    done
} | sort -u > "$dict"

echo "http: $(ls "$here/corpus/http" | wc -l) files, saz_meta: $(ls "$here/corpus/saz_meta" | wc -l) files," \
    "har: $(ls "$here/corpus/har" | wc -l) files ($saz_ok SAZ read, $saz_skipped skipped)"

# ------------------------------------------------------------------------------------------
# saz: whole archives of at most 64 KiB (run with -max_len=65536), and the zip record
# signatures as a dictionary.
mkdir -p "$here/corpus/saz"
for dir in "$@"; do
    for saz in "$dir"/*.saz; do
        [ -f "$saz" ] && [ "$(wc -c < "$saz")" -le 65536 ] && cp -f "$saz" "$here/corpus/saz/"
    done
done
chmod -R u+w "$here/corpus/saz"
printf '%s\n' '"PK\x03\x04"' '"PK\x01\x02"' '"PK\x05\x06"' '"PK\x06\x06"' '"PK\x06\x07"' '"PK\x07\x08"' \
    '"raw/1_c.txt"' '"raw/1_s.txt"' '"raw/1_m.xml"' '"\xff\xff\xff\xff"' '"\x01\x00\x18\x00"' \
    > "$here/corpus/saz.dict"
echo "saz: $(ls "$here/corpus/saz" | wc -l) archives"

# ------------------------------------------------------------------------------------------
# mailbox_log: the bundled mailbox logs and the log texts quoted in the reference notes.
mkdir -p "$here/corpus/mailbox_log"
for dir in "$@"; do
    for f in "$dir"/*mailbox-log*; do
        [ -f "$f" ] && [ "$(wc -c < "$f")" -le 65536 ] && cp -f "$f" "$here/corpus/mailbox_log/"
    done
done
notes=$(dirname "$src")/../reference/mailbox-log.md
if [ -f "$notes" ] && command -v python3 >/dev/null; then
    python3 - "$notes" "$here/corpus/mailbox_log" <<'PY'
import sys
text = open(sys.argv[1]).read().split("```")[1::2]
for i, block in enumerate(text):
    if " :" in block or "Log Entry" in block:
        with open(f"{sys.argv[2]}/reference-{i}.txt", "w", newline="") as f:
            f.write(block.replace("\n", "\r\n"))
PY
fi
chmod -R u+w "$here/corpus/mailbox_log"
printf '%s\n' '"-----------------"' '" Log Entry: "' '"RequestTime : "' '"Identifier : "' \
    '"RequestHeader : "' '"RequestBody : "' '"ResponseHeader : "' '"ResponseBody : "' \
    '"ResponseTime : "' '"WasPending : "' '"[Response was pending]"' '"LogicalRequest : "' \
    '"SyncCommand_OnExecute_Exception : "' '"<Body=12 bytes/>"' '" bytes=\"9\""' \
    '"<?xml version=\"1.0\" encoding=\"utf-8\" ?>"' '" xmlns=\"AirSync:\""' '"[No XmlResponse]"' \
    '"\x1f\x8b"' '"\xff\xfe"' '"\xef\xbb\xbf"' > "$here/corpus/mailbox_log.dict"
echo "mailbox_log: $(ls "$here/corpus/mailbox_log" | wc -l) files"
