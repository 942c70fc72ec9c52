# Print what zsh offers when TAB is pressed at the end of LINE, one match
# per line, with the completion script SCRIPT loaded:
#   zsh -f zsh_complete.zsh SCRIPT LINE
# A real interactive zsh runs in a pseudo-terminal (zsh/zpty) with
# compinit; compadd is wrapped to record the matches it is given that fit
# the word being completed, which is what the user would see.
emulate -L zsh
zmodload zsh/zpty || exit 2
local script=$1 line=$2
local dir=$(mktemp -d) || exit 2
local out=$dir/matches done=$dir/done
: > $out

zpty shell zsh -f -i || exit 2
zpty -w shell "PS1= PS2= RPS1="
zpty -w shell "unsetopt autolist listambiguous beep listbeep"
zpty -w shell "autoload -Uz compinit && compinit -u -D"
zpty -w shell "zstyle ':completion:*' list-prompt ''"
zpty -w shell "source ${(q)script}"
# Calls with -O, -A or -D only filter or test matches; they add nothing.
zpty -w shell "compadd() { if (( ! \${@[(I)-[OAD]*]} )); then local -a __matches; builtin compadd -O __matches \"\$@\"; (( \$#__matches )) && print -rl -- \$__matches >> ${(q)out}; fi; builtin compadd \"\$@\"; }"
# compsys runs comppostfuncs once the completion is over; it marks the end.
# (Keys typed after TAB would be typeahead, which makes zsh cut the
# completion short.)
zpty -w shell "comppostfuncs=(__done); __done() { print -n > ${(q)done} }"
zpty -w -n shell "$line"$'\t'

local waited=0 junk
while [[ ! -e $done ]] && (( waited < 200 )); do
  zpty -r -t shell junk 2>/dev/null
  sleep 0.05
  (( waited++ ))
done
zpty -d shell
if [[ ! -e $done ]]; then
  print -u2 "zsh_complete.zsh: no answer from zsh for: $line"
  rm -rf $dir
  exit 1
fi
sort -u $out
rm -rf $dir
