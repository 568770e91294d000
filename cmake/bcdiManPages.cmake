# SPDX-License-Identifier: BSD-3-Clause
# Run as `cmake -P` at build time: braggcdi(1) and braggcdi-COMMAND(1) from the --help texts with
# help2man, or, without help2man (HELP2MAN empty), the texts themselves as braggcdi*.txt.
# In: BRAGGCDI (the built executable), HELP2MAN, OUT (folder), COMMANDS (comma-separated).
string(REPLACE "," ";" COMMANDS "${COMMANDS}")
file(MAKE_DIRECTORY ${OUT})
execute_process(COMMAND ${BRAGGCDI} --help OUTPUT_VARIABLE main_help RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "'${BRAGGCDI} --help' failed (${rc})")
endif()

if(NOT HELP2MAN)
  file(WRITE ${OUT}/braggcdi.txt "${main_help}")
  foreach(command ${COMMANDS})
    execute_process(COMMAND ${BRAGGCDI} ${command} --help OUTPUT_FILE ${OUT}/braggcdi-${command}.txt
      RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "'braggcdi ${command} --help' failed (${rc})")
    endif()
  endforeach()
  return()
endif()

# One line per command in the main help ("  phase      phase retrieval: ..."): the NAME lines.
set(see_also "braggcdi(1)")
foreach(command ${COMMANDS})
  string(APPEND see_also ", braggcdi-${command}(1)")
endforeach()
set(include_file ${OUT}/see-also.h2m)
file(WRITE ${include_file} "[SEE ALSO]\n${see_also}.\nThe documentation under share/doc/braggcdi.\n")

execute_process(COMMAND ${BRAGGCDI} --version OUTPUT_VARIABLE version_line
  OUTPUT_STRIP_TRAILING_WHITESPACE)
string(REGEX REPLACE "^braggcdi " "" version "${version_line}")

# help2man names the page after the first word of the version string
function(make_page name description help_option)
  execute_process(COMMAND ${HELP2MAN} --no-info --no-discard-stderr --section=1
    --name=${description} --include=${include_file} --help-option=${help_option}
    "--version-string=${name} ${version}" --output=${OUT}/${name}.1 ${BRAGGCDI}
    RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "help2man for ${name} failed: ${err}")
  endif()
endfunction()

make_page(braggcdi "Bragg coherent diffraction imaging reconstruction" --help)
foreach(command ${COMMANDS})
  set(description "braggcdi ${command}")
  string(REGEX MATCH "\n  ${command} +([^\n]+)" line "${main_help}")
  if(line)
    set(description "${CMAKE_MATCH_1}")
  endif()
  make_page(braggcdi-${command} "${description}" "${command} --help")
endforeach()
