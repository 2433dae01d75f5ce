import CLICommands

await ViridianCommand.runMain()
