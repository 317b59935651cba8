using ServerlessImaging.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using ServerlessImaging.Messaging.Channel;
using ServerlessImaging.Relay.Commands;
using ServerlessImaging.Relay.Configuration;
using ServerlessImaging.Relay.Delivery;
using ServerlessImaging.Relay.Diagnostics;
using ServerlessImaging.Relay.Pacs;
using ServerlessImaging.Relay.Retrieval;
using ServerlessImaging.Relay.Staging;

namespace ServerlessImaging.Relay.Hosting;

/// <summary>Wires the relay: options (validated), channel, PACS gateway, retrieval, hosted services, metrics, service integrations.</summary>
public static class RelayHost
{
    /// <summary>Reads and validates the options from configuration (throws <see cref="RelayConfigurationException"/>).</summary>
    public static RelayOptions ReadOptions(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new RelayOptions();
        try
        {
            configuration.GetSection(RelayOptions.Section).Bind(options);
        }
        catch (InvalidOperationException ex)
        {
            // Binder messages name the setting and the target type, not the value.
            throw new RelayConfigurationException($"A Relay setting has the wrong type: {ex.Message}", ex);
        }

        RelayOptionsValidator.EnsureValid(options);
        return options;
    }

    /// <summary>Builds the host; <paramref name="configure"/> lets tests add configuration sources.</summary>
    public static IHost Build(string[] args, Action<IConfigurationBuilder>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
        configure?.Invoke(builder.Configuration);
        var options = ReadOptions(builder.Configuration);

        builder.Services.AddSystemd();
        builder.Services.AddWindowsService(o => o.ServiceName = "si-relay");
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<RelayMetrics>();
        builder.Services.AddSingleton(sp =>
        {
            QuarantineReporter? reporter = null;
            var channel = ChannelSetup.Create(options, sp.GetRequiredService<ILoggerFactory>(), async (report, ct) =>
            {
                // Resolved late: the reporter needs the publisher, which needs these queues.
                reporter ??= sp.GetRequiredService<QuarantineReporter>();
                await reporter.ReportAsync(report, ct);
            });
            return new RelayQueues(channel, string.IsNullOrWhiteSpace(options.Channel.EventsQueue) ? ResourceNames.EventsQueueFor(options.SiteId) : options.Channel.EventsQueue);
        });
        builder.Services.AddSingleton<EventPublisher>();
        builder.Services.AddSingleton<QuarantineReporter>();
        builder.Services.AddSingleton<PacsGateway>();
        builder.Services.AddSingleton<StudyQueries>();
        builder.Services.AddSingleton<RunningCommands>();
        builder.Services.AddSingleton(new SpoolBudget(options.Spool.Directory, options.Spool.MaxMemoryBytes, options.Spool.MaxBytes));
        builder.Services.AddSingleton(sp => new StagingJournals(options.Spool.Directory, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<StagingJournals>>()));
        builder.Services.AddSingleton<MoveDestination>();
        builder.Services.AddSingleton(sp => new DeliveryJournals(options.Spool.Directory, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<DeliveryJournals>>()));
        builder.Services.AddSingleton<DeliveryRunner>();
        builder.Services.AddSingleton(sp => new RetrievalRunner(
            options,
            sp.GetRequiredService<PacsGateway>(),
            sp.GetRequiredService<SpoolBudget>(),
            sp.GetRequiredService<RelayMetrics>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<RetrievalRunner>>(),
            options.Pacs.RetrieveMethod == RetrieveMethod.Move ? sp.GetRequiredService<MoveDestination>() : null));
        builder.Services.AddHostedService<RelayStartup>();
        builder.Services.AddHostedService<CommandProcessor>();
        builder.Services.AddHostedService<HeartbeatService>();
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(RelayMetrics.MeterName));
        return builder.Build();
    }
}
