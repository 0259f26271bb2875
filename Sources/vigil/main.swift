import VigilCLI

Vigil.runAndExit()
