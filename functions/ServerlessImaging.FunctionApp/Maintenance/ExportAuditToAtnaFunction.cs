using Microsoft.Azure.Functions.Worker;
using ServerlessImaging.Cloud.Runtime;

namespace ServerlessImaging.FunctionApp.Maintenance;

/// <summary>Every minute: sends the audit records not yet exported to the ATNA collector (<see cref="AtnaAuditExport"/>; nothing when none is configured).</summary>
public sealed class ExportAuditToAtnaFunction(AtnaAuditExport export)
{
    /// <summary>The function's name in <c>functions.metadata</c>.</summary>
    public const string Name = "ExportAuditToAtna";

    /// <summary>The schedule: every minute (a SIEM learns of an event within about a minute; the standalone host polls every 2 s).</summary>
    public const string Schedule = "0 * * * * *";

    /// <summary>One pass; the cursor and its lease make overlapping or concurrent runs safe.</summary>
    [Function(Name)]
    public Task Run([TimerTrigger(Schedule)] TimerInfo timer, CancellationToken cancellationToken) => export.RunOnceAsync(cancellationToken);
}
