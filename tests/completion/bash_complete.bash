# Print what the bash completion in SCRIPT offers for a command line given
# as words, the last being the word under the cursor (possibly empty):
#   bash bash_complete.bash SCRIPT WORD...
# It sets COMP_WORDS and COMP_CWORD as bash does for TAB at the end of the
# line and calls the function the script registered for stekctl.
script=$1
shift
# shellcheck disable=SC1090
source "$script" || exit 2
function=$(complete -p stekctl 2>/dev/null | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
[ -n "$function" ] || { echo "bash_complete.bash: $script registers nothing for stekctl" >&2; exit 2; }
COMP_WORDS=("$@")
COMP_CWORD=$(($# - 1))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
COMPREPLY=()
"$function" stekctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
printf '%s\n' "${COMPREPLY[@]}"
