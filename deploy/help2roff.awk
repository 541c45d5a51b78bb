# comet-gateway(1) from `comet-gateway --help`, so that the man page says
# what the binary says:
#
#   comet-gateway --help | awk -f help2roff.awk > comet-gateway.1
#
# The help is Boost.Program_options' layout: a title line ("NAME VERSION:
# summary"), a usage line, a caption, then one option per entry with its
# description wrapped in a column of its own. The wrapped lines are joined
# back as Boost cut them: at a space (kept at the end of the line, or
# dropped when the line was full) unless the word is longer than half the
# column, which it cuts anywhere. So a full line whose last word is shorter
# than that ended at a space; one with a longer last word was cut inside it.

function roff(s) {
  gsub(/\\/, "\\e", s)
  gsub(/-/, "\\-", s)
  if (s ~ /^[.']/) s = "\\&" s
  # Long URL patterns may break after a bracket (\: is an invisible break
  # point) rather than overflow the line.
  gsub(/\]/, "]\\:", s)
  return s
}

# "-h [ --help ]" -> "-h, --help"; "--redis URL (=x)" -> "--redis URL (default x)"
function option_head(s,   n, parts, i, out, default_text) {
  sub(/ +$/, "", s)
  sub(/^ +/, "", s)
  if (match(s, /^-[^ ] \[ --[^ ]+ \]/)) {
    out = "\\fB" roff(substr(s, 1, 2)) "\\fR, \\fB" roff(substr(s, 6, RLENGTH - 7)) "\\fR"
    return out roff(substr(s, RLENGTH + 1))
  }
  default_text = ""
  if (match(s, / \(=.*\)$/)) {
    default_text = substr(s, RSTART + 3, RLENGTH - 4)
    s = substr(s, 1, RSTART - 1)
  }
  n = split(s, parts, " ")
  out = "\\fB" roff(parts[1]) "\\fR"
  for (i = 2; i <= n; i++) out = out " \\fI" roff(parts[i]) "\\fR"
  if (default_text != "") out = out " (default " roff(default_text) ")"
  return out
}

function flush_option() {
  if (head == "") return
  print ".TP"
  print head
  print roff(desc)
  head = ""
  desc = ""
}

# Joins a wrapped line of a description to what came before.
function append(text, previous_length,   last_word) {
  if (desc == "" || desc ~ / $/ || previous_length < full) {
    desc = desc (desc == "" || desc ~ / $/ ? "" : " ") text
    return
  }
  last_word = desc
  sub(/.* /, "", last_word)
  desc = desc (length(last_word) < int((full - column) / 2) ? " " : "") text
}

{
  lines[NR] = $0
  # The width Boost wraps at: the longest option line (the title, usage and
  # caption lines are not wrapped).
  if ($0 ~ /^ / && length($0) > full) full = length($0)
  # The description column: the indent of the wrapped lines.
  if (match($0, /^   +/) && (column == 0 || RLENGTH < column)) column = RLENGTH
}

END {
  # The title: "comet-gateway 0.1.0: a Comet ... responder."
  split(lines[1], title, " ")
  name = title[1]
  version = title[2]
  sub(/:$/, "", version)
  summary = lines[1]
  sub(/^[^:]*: */, "", summary)
  sub(/\.$/, "", summary)
  printf ".TH %s 1 \"\" \"%s %s\" \"User Commands\"\n", toupper(roff(name)), roff(name), version
  # Left-aligned, unhyphenated: the text has long URL patterns and flags.
  print ".ad l"
  print ".nh"
  print ".SH NAME"
  print roff(name) " \\- " roff(summary)

  head = ""
  desc = ""
  for (i = 2; i <= NR; i++) {
    line = lines[i]
    if (line ~ /^Usage: /) {
      sub(/^Usage: +[^ ]+ */, "", line)
      print ".SH SYNOPSIS"
      print ".B " roff(name)
      print roff(line)
      print ".SH DESCRIPTION"
      print roff(summary) "."
    } else if (line == "") {
      continue
    } else if (line ~ /^[^ ]/) {
      # The caption of the options.
      flush_option()
      print ".SH OPTIONS"
      print roff(line)
    } else if (line ~ /^  -/) {
      flush_option()
      # The description starts in the column, after a space; a long option
      # has it on the next line.
      if (length(line) > column && substr(line, column, 1) == " ") {
        head = option_head(substr(line, 1, column))
        desc = substr(line, column + 1)
      } else {
        head = option_head(line)
      }
    } else {
      text = line
      sub(/^ +/, "", text)
      append(text, length(lines[i - 1]))
    }
  }
  flush_option()
  print ".SH FILES"
  print ".TP"
  print ".I /etc/comet\\-gateway/comet\\-gateway.conf"
  print "the configuration file of the Debian package's systemd unit"
  print "(" roff("--config") "; share/comet\\-gateway/examples/comet\\-gateway.conf"
  print "holds the same example)."
  print ".SH SEE ALSO"
  print "README.md and API.md in /usr/share/doc/comet\\-gateway"
  print "(share/doc/comet\\-gateway under the prefix of a source install)."
}
