# Reads a callgrind output file and prints "<instructions> <allocations>": the program's total instructions
# (totals:) and the calls to malloc, calloc and realloc (names are compressed: "(id) name" the first time, "(id)"
# after).
/^c?fn=\(/ {
  match($0, /\([0-9]+\)/)
  id = substr($0, RSTART, RLENGTH)
  rest = substr($0, RSTART + RLENGTH)
  sub(/^ /, "", rest)
  if (rest != "") name[id] = rest
  if ($0 ~ /^cfn=/) callee = name[id]
  next
}
/^calls=/ {
  split(substr($0, 7), parts, " ")
  if (callee == "malloc" || callee == "calloc" || callee == "realloc") allocations += parts[1]
}
/^totals:/ { instructions = $2 }
END { printf "%d %d\n", instructions, allocations }
