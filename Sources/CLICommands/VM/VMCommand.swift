import ArgumentParser

/// `viridian vm …`: virtual machines.
struct VMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vm", abstract: "Create, run and manage virtual machines.",
        subcommands: [VMCreate.self, VMList.self, VMShow.self, VMSet.self, VMStart.self, VMStop.self, VMSave.self,
                      VMPause.self, VMResume.self, VMRestart.self, VMRemove.self, VMConsole.self, VMDisk.self, VMDVD.self,
                      VMIntegration.self, VMKVP.self, VMExec.self, VMShell.self, VMCopyFile.self, VMFreeze.self, VMThaw.self, VMMove.self, VMMoveStorage.self, VMNic.self, VMCheckpoint.self, VMImport.self, VMBackup.self])
}

/// The VM a command acts on.
struct VMNameArgument: ParsableArguments {
    @Argument(help: "The VM's name.")
    var name: String
}
