using NativeSeg.Fuzz;

return FuzzCommand.Run(args);
