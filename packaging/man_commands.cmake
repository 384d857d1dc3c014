# cmake -DCLI=path/to/bertscope-cli -DOUT=file -P man_commands.cmake : writes the COMMANDS section of
# bertscope-cli(1) for help2man's --include: every subcommand's own --help (and its subcommands'), verbatim, so the
# man page says exactly what the program says.

# roff: backslashes, minus signs, and a line that would start with a request character.
function(to_roff text out)
  string(REPLACE "\\" "\\e" text "${text}")
  string(REPLACE "-" "\\-" text "${text}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# The names under "Subcommands:" in a help text.
function(subcommands_of help out)
  set(names "")
  string(REGEX MATCH "\nSubcommands:\n(  [^\n]*\n?)*" section "\n${help}")
  string(REGEX MATCHALL "\n  [a-z][a-z0-9-]*" lines "${section}")
  foreach(line IN LISTS lines)
    string(STRIP "${line}" name)
    list(APPEND names "${name}")
  endforeach()
  set(${out} "${names}" PARENT_SCOPE)
endfunction()

function(help_of words out)
  execute_process(COMMAND "${CLI}" ${words} --help OUTPUT_VARIABLE help RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${CLI} ${words} --help failed (${rc})")
  endif()
  set(${out} "${help}" PARENT_SCOPE)
endfunction()

# Appends the section for the command `words` (a list: "cache;rm"), then its subcommands'.
function(document words)
  help_of("${words}" help)
  list(JOIN words " " title)
  to_roff("${title}" title)
  to_roff("${help}" body)
  file(APPEND "${OUT}" ".SS \"${title}\"\n.nf\n${body}.fi\n")
  subcommands_of("${help}" names)
  foreach(name IN LISTS names)
    document("${words};${name}")
  endforeach()
endfunction()

help_of("" top)
subcommands_of("${top}" commands)
file(WRITE "${OUT}" "[COMMANDS]\nEach command's options, as `bertscope\\-cli COMMAND \\-\\-help' prints them.\n")
foreach(command IN LISTS commands)
  document("${command}")
endforeach()
file(APPEND "${OUT}" "[SEE ALSO]\n.BR bertscope (1)\n")
