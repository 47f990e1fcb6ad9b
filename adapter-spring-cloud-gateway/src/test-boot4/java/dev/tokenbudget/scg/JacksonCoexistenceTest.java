package dev.tokenbudget.scg;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.ApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Spring Boot 4 configures Jackson 3 ({@code tools.jackson}); the engine reads its YAML with
 * Jackson 2 ({@code com.fasterxml.jackson}). Both live side by side in one gateway.
 */
class JacksonCoexistenceTest extends GatewayTestBase {

    @Autowired
    ApplicationContext context;

    @Test
    void bootsJackson3MapperAndTheEnginesJackson2ConfigLoaderWorkTogether() throws Exception {
        tools.jackson.databind.json.JsonMapper mapper = context.getBean(tools.jackson.databind.json.JsonMapper.class);

        assertThat(mapper.readTree("{\"a\":1}").get("a").asInt()).isEqualTo(1);
        assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree("{\"a\":2}").get("a").asInt())
                .isEqualTo(2);
        assertThat(engine.config().keys()).hasSize(12);
    }
}
