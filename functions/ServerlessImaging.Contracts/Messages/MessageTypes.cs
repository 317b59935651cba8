using System.Collections.Frozen;
using System.Text.Json.Serialization.Metadata;

namespace ServerlessImaging.Contracts.Messages;

/// <summary>
/// The closed list of wire type names and their source-generated serialisation metadata.
/// A name is part of the contract: renaming a record must not rename its wire type.
/// </summary>
public static class MessageTypes
{
    private static readonly FrozenDictionary<string, JsonTypeInfo> ByName = new Dictionary<string, JsonTypeInfo>(StringComparer.Ordinal)
    {
        ["Echo"] = MessagesJsonContext.Default.EchoCommand,
        ["FindStudies"] = MessagesJsonContext.Default.FindStudiesCommand,
        ["ListSeries"] = MessagesJsonContext.Default.ListSeriesCommand,
        ["RetrieveStudy"] = MessagesJsonContext.Default.RetrieveStudyCommand,
        ["Cancel"] = MessagesJsonContext.Default.CancelCommand,
        ["DeliverStudy"] = MessagesJsonContext.Default.DeliverStudyCommand,
        ["EchoResult"] = MessagesJsonContext.Default.EchoResult,
        ["StudiesFound"] = MessagesJsonContext.Default.StudiesFound,
        ["SeriesListed"] = MessagesJsonContext.Default.SeriesListed,
        ["RetrievalProgress"] = MessagesJsonContext.Default.RetrievalProgress,
        ["RetrievalCompleted"] = MessagesJsonContext.Default.RetrievalCompleted,
        ["CommandFailed"] = MessagesJsonContext.Default.CommandFailed,
        ["Heartbeat"] = MessagesJsonContext.Default.Heartbeat,
        ["DeliveryProgress"] = MessagesJsonContext.Default.DeliveryProgress,
        ["DeliveryCompleted"] = MessagesJsonContext.Default.DeliveryCompleted,
        ["DeliveryFailed"] = MessagesJsonContext.Default.DeliveryFailed,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly FrozenDictionary<Type, string> ByClrType =
        ByName.ToFrozenDictionary(pair => pair.Value.Type, pair => pair.Key);

    /// <summary>Every wire type name.</summary>
    public static IEnumerable<string> Names => ByName.Keys;

    /// <summary>Wire type name of a body.</summary>
    /// <exception cref="MessageContractException">The body's CLR type is not part of the contract.</exception>
    public static string NameOf(RelayMessage body)
    {
        ArgumentNullException.ThrowIfNull(body);
        return ByClrType.TryGetValue(body.GetType(), out var name)
            ? name
            : throw new MessageContractException(MessageContractError.UnknownType, $"CLR type '{body.GetType().Name}' is not a message contract.");
    }

    /// <summary>True when <paramref name="name"/> is the wire type of a command (a body sent by the cloud to a relay).</summary>
    public static bool IsCommand(string? name) =>
        name is not null && ByName.TryGetValue(name, out var info) && info.Type.IsAssignableTo(typeof(RelayCommand));

    internal static bool TryGetTypeInfo(string name, out JsonTypeInfo typeInfo) => ByName.TryGetValue(name, out typeInfo!);

    internal static JsonTypeInfo TypeInfoOf(RelayMessage body) => ByName[NameOf(body)];
}
