package dev.tokenbudget.scg;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.PackageVersion;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootVersion;
import org.springframework.context.ApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Spring Boot 3.5 configures Jackson 2 itself, at the version its BOM manages; the engine reads
 * its YAML with that same Jackson 2 in a Boot 3 gateway, not the newer one it is built with.
 */
class Boot3JacksonTest extends GatewayTestBase {

    @Autowired
    ApplicationContext context;

    @Test
    void runsOnBoot35WithBootsOwnJackson2() throws Exception {
        assertThat(SpringBootVersion.getVersion()).startsWith("3.5.");
        ObjectMapper mapper = context.getBean(ObjectMapper.class);

        assertThat(mapper.readTree("{\"a\":1}").get("a").asInt()).isEqualTo(1);
        assertThat(PackageVersion.VERSION.getMinorVersion()).isEqualTo(19);
        assertThat(engine.config().keys()).hasSize(12);
    }
}
