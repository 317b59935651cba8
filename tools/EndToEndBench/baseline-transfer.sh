#!/usr/bin/env bash
# The end-to-end benchmark's baseline: what a script-based gateway does with dcmtk and curl.
#   baseline-transfer.sh WORKDIR STOW_URL SITE_SPEC...
#   SITE_SPEC = AETITLE@HOST:PORT=STUDYUID[,STUDYUID...]
# For each site in parallel (as one relay per site runs): for each of its studies, getscu (C-GET, study root) into
# WORKDIR/<uid>/, then one STOW-RS request of all its files (multipart/related body written to a file, posted by
# curl). Exit 0 only if every getscu succeeded and every STOW-RS answered 200; prints "<uid> <files>" per study.
set -euo pipefail
export TCP_NODELAY=1
work="$1" url="$2"
shift 2

stow() { # uid folder
  local uid="$1" folder="$2" boundary="baseline-$1" body="$work/$1.multipart" file code
  {
    for file in "$folder"/*; do
      printf -- '--%s\r\nContent-Type: application/dicom\r\n\r\n' "$boundary"
      cat "$file"
      printf '\r\n'
    done
    printf -- '--%s--\r\n' "$boundary"
  } >"$body"
  # "Expect:" off: curl would otherwise wait ~1 s for a 100-continue Orthanc never sends.
  code="$(curl -sS -o "$work/$uid.response" -w '%{http_code}' -X POST \
    -H "Content-Type: multipart/related; type=\"application/dicom\"; boundary=$boundary" \
    -H 'Accept: application/dicom+json' -H 'Expect:' \
    --data-binary "@$body" "${url%/}/studies")"
  rm -f "$body"
  if [[ $code != 200 ]]; then
    echo "baseline: STOW-RS of $uid answered HTTP $code" >&2
    return 1
  fi
}

site() { # spec
  local spec="$1" aet host port uid folder
  aet="${spec%%@*}"; spec="${spec#*@}"
  host="${spec%%:*}"; spec="${spec#*:}"
  port="${spec%%=*}"; spec="${spec#*=}"
  for uid in ${spec//,/ }; do
    folder="$work/$uid"
    mkdir -p "$folder"
    if ! getscu -aet GETSCU -aec "$aet" -S -k QueryRetrieveLevel=STUDY -k "StudyInstanceUID=$uid" -od "$folder" "$host" "$port" 2>"$work/$uid.getscu.log"; then
      echo "baseline: getscu of $uid from $aet failed: $(tail -1 "$work/$uid.getscu.log")" >&2
      return 1
    fi
    stow "$uid" "$folder"
    echo "$uid $(find "$folder" -type f | wc -l)"
  done
}

pids=()
for spec in "$@"; do
  site "$spec" &
  pids+=("$!")
done
status=0
for pid in "${pids[@]}"; do
  wait "$pid" || status=1
done
exit "$status"
