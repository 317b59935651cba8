using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Relay.Tests.Support;

[CollectionDefinition(LocalStackFixture.CollectionName)]
public sealed class LocalStackDefinition : ICollectionFixture<LocalStackFixture>;
